// Request schemas shared by the agentkernel-compatible routes (TypeBox -> JSON schema, checked by
// fastify before any handler runs: a bad body is a 400 and nothing happens).
import { Type } from '@sinclair/typebox';

export const SandboxNameParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 200 }) });

const Arg = Type.String({ maxLength: 65_536 });
export const Command = Type.Array(Arg, { minItems: 1, maxItems: 1024 });
export const Profile = Type.Optional(Type.String({ maxLength: 32 }));
export const Image = Type.Optional(Type.String({ minLength: 1, maxLength: 512 }));

export const RunBody = Type.Object({
  command: Command,
  image: Image,
  profile: Profile,
  fast: Type.Optional(Type.Boolean()),
});

export const BatchRunBody = Type.Object({
  commands: Type.Array(Type.Object({ command: Command }), { minItems: 1, maxItems: 100 }),
});

export const ExecBody = Type.Object({
  command: Command,
  env: Type.Optional(Type.Array(Type.String({ maxLength: 32_768 }), { maxItems: 256 })),
  workdir: Type.Optional(Type.String({ maxLength: 4096 })),
  sudo: Type.Optional(Type.Boolean()),
});

const StrList = Type.Optional(Type.Array(Type.String({ maxLength: 1024 }), { maxItems: 64 }));
export const CreateSandboxBody = Type.Object({
  name: Type.String({ maxLength: 200 }),
  image: Image,
  vcpus: Type.Optional(Type.Integer({ minimum: 1, maximum: 1024 })),
  memory_mb: Type.Optional(Type.Integer({ minimum: 64, maximum: 1_048_576 })),
  profile: Profile,
  source_url: Type.Optional(Type.String({ maxLength: 2048 })),
  source_ref: Type.Optional(Type.String({ maxLength: 256 })),
  init_script: Type.Optional(Type.String({ maxLength: 65_536 })),
  description: Type.Optional(Type.String({ maxLength: 2048 })),
  labels: Type.Optional(Type.Record(Type.String({ maxLength: 128 }), Type.String({ maxLength: 1024 }))),
  // Accepted by the SDK but host-level upstream features: refused with a clear message when used.
  volumes: StrList,
  secrets: StrList,
  secret_files: StrList,
  ports: StrList,
});

export const FileWriteBody = Type.Object({
  content: Type.String(),
  encoding: Type.Optional(Type.Union([Type.Literal('utf8'), Type.Literal('base64')])),
});

export const BatchFilesBody = Type.Object({
  files: Type.Record(Type.String({ maxLength: 4096 }), Type.String(), { maxProperties: 1000 }),
});

export const ExtendBody = Type.Object({ by: Type.Optional(Type.String({ maxLength: 32 })) });

export const SnapshotBody = Type.Object({ sandbox: Type.String({ maxLength: 200 }), name: Type.String({ maxLength: 200 }) });
