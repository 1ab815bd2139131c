export declare const testLabel: Record<string, string>;
export declare const testAgentImageRepository: string;
export declare function buildTestAgentImage(): Promise<string>;
export declare function scenarioPrompt(name: string, ...args: string[]): string;
export declare function scriptPrompt(script: string): string;
