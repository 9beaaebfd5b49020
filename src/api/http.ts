// The transport of the fusionpipe REST API client. Requests go through ServerConnection, which
// adds the token and the XSRF header; a non-2xx answer becomes an ApiError with the server's
// message.
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

export class ApiError extends Error {
  /** `retryAfter`: the seconds a 503 (database busy or unreachable) says to wait. */
  constructor(
    readonly status: number,
    message: string,
    readonly retryAfter: number | null = null,
  ) {
    super(message);
  }
}

/**
 * The server's `{"message": ...}`; an answer that is not fusionpipe's own (the HTML 404 page
 * when the server extension is not enabled, a proxy's error page) falls back to the HTTP status.
 */
export function errorMessage(response: Response, text: string): string {
  try {
    const message = (JSON.parse(text) as { message?: unknown }).message;
    if (typeof message === 'string' && message) {
      return message;
    }
  } catch {
    // Not JSON: use the status line below.
  }
  return `${response.status} ${response.statusText}`.trim();
}

/** Sends requests to `<base_url>fusionpipe/api/`; the clients of each area extend it. */
export class ApiTransport {
  constructor(protected readonly settings = ServerConnection.makeSettings()) {}

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const init: RequestInit = { method };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
    }
    const text = await (await this.send(path, init)).text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** The answer to a request, once it is known to be a success (else an ApiError). */
  protected async send(path: string, init: RequestInit): Promise<Response> {
    const url = URLExt.join(this.settings.baseUrl, 'fusionpipe', 'api', path);
    let response: Response;
    try {
      response = await ServerConnection.makeRequest(url, init, this.settings);
    } catch (error) {
      throw new ApiError(0, `cannot reach the fusionpipe server: ${String(error)}`);
    }
    if (!response.ok) {
      const retryAfter = Number(response.headers.get('Retry-After')) || null;
      throw new ApiError(
        response.status,
        errorMessage(response, await response.text()),
        retryAfter,
      );
    }
    return response;
  }
}
