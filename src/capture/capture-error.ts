/** The error thrown when a debuggee cannot be built, run or dumped (missing dotnet, build failure, timeout, createdump failure). */
export class CaptureError extends Error {
  /** Creates a capture error; `detail` (e.g. a process's stderr tail) is appended on its own lines. */
  constructor(message: string, detail?: string) {
    super(detail !== undefined && detail.trim() !== '' ? `${message}\n${detail.trimEnd()}` : message);
    this.name = 'CaptureError';
  }
}
