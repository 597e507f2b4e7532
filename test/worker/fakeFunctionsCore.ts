import type { FunctionCallback, FunctionMetadata, ProgrammingModel, RpcLogCategory, RpcLogLevel } from './coreTypes';

/*
 * A stand-in for the module the Node worker hands the library as `@azure/functions-core`. It keeps
 * what the app registers, as the worker does (Azure/azure-functions-nodejs-worker, src/coreApi:
 * registerFunction refuses a second function of the same name), so the test can read the metadata
 * the host would get and run each function the way the worker does.
 */

/** Placeholders: the library does not read them. */
export const version = '0.0.0-fake';
export const hostVersion = '4.0.0-fake';

export class Disposable {
    constructor(private callOnDispose: (() => unknown) | undefined) {}

    dispose(): void {
        this.callOnDispose?.();
        this.callOnDispose = undefined;
    }
}

export interface RegisteredFunction {
    metadata: FunctionMetadata;
    callback: FunctionCallback;
}

export const registered = new Map<string, RegisteredFunction>();
export const logs: { level: RpcLogLevel; category: RpcLogCategory; message: string }[] = [];
let programmingModel: ProgrammingModel | undefined;

export function registerFunction(metadata: FunctionMetadata, callback: FunctionCallback): Disposable {
    if (registered.has(metadata.name)) throw new Error(`A function with the name "${metadata.name}" has already been registered.`);
    registered.set(metadata.name, { metadata, callback });
    return new Disposable(() => registered.delete(metadata.name));
}

/** The app registers no hook; the library may, and nothing here runs them. */
export function registerHook(): Disposable {
    return new Disposable(undefined);
}

export function setProgrammingModel(model: ProgrammingModel): void {
    programmingModel = model;
}

export function getProgrammingModel(): ProgrammingModel {
    if (!programmingModel) throw new Error('No programming model was set: the app registered no function through @azure/functions.');
    return programmingModel;
}

export function log(level: RpcLogLevel, category: RpcLogCategory, message: string): void {
    logs.push({ level, category, message });
}
