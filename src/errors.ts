/** Application errors (admin API, CLI, pages). Protocol errors use oidc-provider's classes. */
export class AppError extends Error {
  override name = 'AppError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

export const notFound = (what: string): AppError => new AppError(404, 'not_found', `${what} not found`);
export const invalidInput = (field: string, message: string): AppError =>
  new AppError(400, 'invalid_input', `${field}: ${message}`, field);
export const conflict = (message: string, field?: string): AppError => new AppError(409, 'conflict', message, field);
