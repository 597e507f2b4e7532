/** What a client sent to the console cannot be done as sent: a 400 whose message names the problem. */
export class ConsoleRequestError extends Error {
    constructor(message: string) {
        super(message);
        this.name = 'ConsoleRequestError';
    }
}
