export { startFakeGitHub } from './server.js';
export type { FakeGitHub, RecordedRequest, Fault, RequestAuth, StartFakeGitHubOptions, FakeApp, FakeRepo, FakeToken, Permissions } from './server.js';
