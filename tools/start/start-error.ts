/** A failure `npm start` reports as it is, with the lines the failing process wrote last. */
export class StartError extends Error {
  readonly recentLines: string[];
  constructor(message: string, recentLines: string[] = []) {
    super(message);
    this.recentLines = recentLines;
  }
}
