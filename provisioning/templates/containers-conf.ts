// Podman settings for agentkernel's container backend (rootful podman driven by agentkernel-api).

export function renderContainersConf(): string {
  return `# Managed by agentkernel-saas provisioning.
[containers]
# No inherited host ulimits: hosts inside containers (and small VMs) often cannot raise them.
default_ulimits = []

[engine]
# runc works both on real hosts and on nested systemd hosts (containers in containers).
runtime = "runc"
`;
}
