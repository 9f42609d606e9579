// Entry point for `pulumi up` (Pulumi.yaml: main: infra/). Pulumi runs the default export and
// publishes what it returns as the stack outputs.
import { agentkernelStack } from './program.js';

export default () => agentkernelStack();
