// Loads the Compute fake from test/fakes (TypeScript) for plain-JS benchmarks: the same fake the
// tests use, through the one fake transpiler (it lives in bench/aws/load-fake.js for now).
import { transpileFakes } from '../aws/load-fake.js';

export function loadComputeFake() {
  return transpileFakes(['gcp/http.ts', 'gcp/compute.ts'], 'gcp/compute.js');
}
