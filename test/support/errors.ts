import { InvalidCredentialInput } from "../../provider/errors";

/** The InvalidCredentialInput `f` throws (any other outcome fails the test). */
export function inputFailure(f: () => unknown): InvalidCredentialInput {
  try {
    f();
  } catch (e) {
    if (e instanceof InvalidCredentialInput) return e;
    throw e;
  }
  throw new Error("expected an InvalidCredentialInput");
}
