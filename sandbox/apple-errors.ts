/**
 * Apple's error bodies: `{errors: [{id, status, code, title, detail, source?}]}` (App Store Connect API,
 * "Interpreting and Handling Errors"). Texts below are the ones Apple sends, as captured in peer tools' issues
 * and tests; where a text is not known it says so.
 */
import * as crypto from "crypto";

export interface ApiErrorEntry {
  id: string;
  status: string;
  code: string;
  title: string;
  detail?: string;
  source?: { pointer?: string; parameter?: string };
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly title: string,
    readonly detail?: string,
    readonly source?: { pointer?: string; parameter?: string },
    readonly headers: Record<string, string> = {},
  ) {
    super(`${status} ${code}: ${title}`);
  }

  body(): { errors: ApiErrorEntry[] } {
    const entry: ApiErrorEntry = { id: crypto.randomUUID(), status: String(this.status), code: this.code, title: this.title };
    if (this.detail !== undefined) entry.detail = this.detail;
    if (this.source) entry.source = this.source;
    return { errors: [entry] };
  }
}

/** 401: the same body whatever is wrong with the token (egodigital/node-appstore-connect#3, Apple-Actions#181). */
export function notAuthorized(): ApiError {
  return new ApiError(
    401,
    "NOT_AUTHORIZED",
    "Authentication credentials are missing or invalid.",
    "Provide a properly configured and signed bearer token, and make sure that it has not expired. Learn more about Generating Tokens for API Requests https://developer.apple.com/go/?id=api-generating-tokens",
  );
}

/** 403 (fastlane spaceship api_client.rb format_errors comments). */
export function forbidden(detail: string): ApiError {
  return new ApiError(403, "FORBIDDEN_ERROR", "This request is forbidden for security reasons", detail);
}

/** 404 (rorkai/App-Store-Connect-CLI tests, captured live). */
export function notFound(type: string, id: string): ApiError {
  return new ApiError(404, "NOT_FOUND", "The specified resource does not exist", `There is no resource of type '${type}' with id '${id}'`);
}

export function pathNotFound(): ApiError {
  return new ApiError(404, "NOT_FOUND", "The specified resource does not exist", "The path provided does not match a defined resource type.");
}

export function methodNotAllowed(method: string, resource: string): ApiError {
  return new ApiError(405, "METHOD_NOT_ALLOWED", "The request method is not valid for the resource path.", `The resource '${resource}' does not allow '${method}'.`);
}

/** 409 entity errors; the title is Apple's for ENTITY_ERROR.ATTRIBUTE.INVALID (Codemagic, eas-cli test texts). */
export function entityInvalid(detail: string, pointer?: string): ApiError {
  return new ApiError(409, "ENTITY_ERROR.ATTRIBUTE.INVALID", "There is a problem with the request entity", detail, pointer ? { pointer } : undefined);
}

/** 409 for a missing attribute (fastlane spaceship api_client.rb comments). */
export function attributeRequired(name: string): ApiError {
  return new ApiError(
    409,
    "ENTITY_ERROR.ATTRIBUTE.REQUIRED",
    "The provided entity is missing a required attribute",
    `You must provide a value for the attribute '${name}' with this request`,
    { pointer: `/data/attributes/${name}` },
  );
}

export function relationshipRequired(name: string): ApiError {
  return new ApiError(
    409,
    "ENTITY_ERROR.RELATIONSHIP.REQUIRED",
    "The provided entity is missing a required relationship",
    `You must provide a value for the relationship '${name}' with this request`,
    { pointer: `/data/relationships/${name}` },
  );
}

export function relationshipInvalid(name: string, detail: string): ApiError {
  return new ApiError(409, "ENTITY_ERROR.RELATIONSHIP.INVALID", "The provided entity includes a relationship with an invalid value", detail, {
    pointer: `/data/relationships/${name}`,
  });
}

export function parameterInvalid(parameter: string, detail: string): ApiError {
  return new ApiError(400, "PARAMETER_ERROR.INVALID", "A parameter has an invalid value", detail, { parameter });
}

/** 429 (AvdLee/appstoreconnect-swift-sdk#239, nickustinov/itsyconnect-macos#29). */
export function rateLimited(retryAfterSeconds: number): ApiError {
  return new ApiError(
    429,
    "RATE_LIMIT_EXCEEDED",
    "The request rate limit has been reached.",
    "We've received too many requests for this API. Please wait and try again or slow down your request rate.",
    undefined,
    { "retry-after": String(retryAfterSeconds) },
  );
}

/** 500: Apple's exact text is not confirmed by a public capture; this is its usual shape. */
export function unexpected(): ApiError {
  return new ApiError(500, "UNEXPECTED_ERROR", "An unexpected error occurred.", "An unexpected error occurred on the server side. If this issue continues, contact us at https://developer.apple.com/contact/.");
}
