// `node --import <this file>`: installs hooks.ts (see there). Erasable syntax only.
import { register } from 'node:module';

register('./hooks.ts', import.meta.url);
