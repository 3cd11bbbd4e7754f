import type { MotoServer } from "./moto";

export default async function globalTeardown(): Promise<void> {
  const moto = (globalThis as { __moto?: MotoServer }).__moto;
  if (moto) await moto.stop();
}
