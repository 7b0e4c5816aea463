// `npm start`: the whole system on this machine, supervised (tools/start/stack.ts).
import { runStack } from './start/stack.ts';

await runStack();
