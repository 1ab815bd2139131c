/** Static test credentials: the fakes check the key id; nothing here is a real secret. */
export const testCredentials = { accessKeyId: 'AKIDAGENTIUMTEST', secretAccessKey: 'fake-secret-for-loopback-tests' };
