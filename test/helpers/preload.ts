/**
 * Loaded before every test file (`npm test`, `npm run test:reliability`:
 * `--import tsx --import ./test/helpers/preload.ts`). Run a single file the same way.
 */
import "./assert-ok.ts";
import "./loopback-only.ts";
