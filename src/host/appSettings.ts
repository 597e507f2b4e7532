/** Replaces each `%NAME%` with the app setting NAME, as the Functions host resolves binding expressions. */
export function resolveSettingReferences(text: string, env: NodeJS.ProcessEnv): string {
    return text.replace(/%([^%]+)%/g, (_, name: string) => {
        const value = env[name];
        if (value === undefined || value === '') throw new Error(`The app setting ${name}, used in "${text}", is not set.`);
        return value;
    });
}
