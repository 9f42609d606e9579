// One plan step as a single bash program: write the step's files (atomically, only when content,
// mode or owner differ; aks_install_file of the prelude) and then run its script. The SSH executor
// sends exactly this to the host on stdin; the Pulumi step runner can reuse renderFileWrites.
import { BASH_PRELUDE, shq } from './bash.js';
import type { PlanFile, PlanStep } from './plan.js';

function heredoc(tag: string, content: string): string {
  // base64 lines never contain the tag, so any content (quotes, $, backslashes) passes unchanged.
  const b64 = Buffer.from(content).toString('base64').replace(/.{1,76}/g, '$&\n');
  return `<<'${tag}'\n${b64}${tag}`;
}

/** Bash (needs BASH_PRELUDE) writing each file via a temp file in its directory + rename. */
export function renderFileWrites(files: PlanFile[]): string {
  return files
    .map((f) => {
      const dir = f.path.replace(/\/[^/]+$/, '') || '/';
      return [
        `install -d -m 0755 ${shq(dir)}`,
        `aks_tmp=$(mktemp ${shq(`${f.path}.aks-XXXXXX`)})`,
        `base64 -d > "$aks_tmp" ${heredoc('AKS_FILE_EOF', f.content)}`,
        `aks_install_file "$aks_tmp" ${shq(f.path)} ${shq(f.mode)} ${shq(f.owner ?? 'root:root')}`,
      ].join('\n');
    })
    .join('\n');
}

/** The whole step as bash for `bash -s`; `environment` exports, if any, go in front. */
export function renderStepProgram(step: Pick<PlanStep, 'id' | 'files' | 'script'>): string {
  return [
    BASH_PRELUDE,
    renderFileWrites(step.files),
    `aks_script=$(base64 -d ${heredoc('AKS_SCRIPT_EOF', step.script)}\n)`,
    // The script reports its own failing command; stdin is closed for it, so a command reading
    // stdin cannot eat the rest of this program.
    'trap - ERR',
    `bash -c "$aks_script" ${shq(`aks-step-${step.id}`)} </dev/null`,
    '',
  ].join('\n');
}

/** `export NAME=value` lines for those of a step's environment names that have a value. */
export function renderEnvironment(names: string[] | undefined, values: Record<string, string | undefined>): string {
  return (names ?? [])
    .filter((n) => values[n] !== undefined && values[n] !== '')
    .map((n) => `export ${n}=${shq(values[n]!)}\n`)
    .join('');
}
