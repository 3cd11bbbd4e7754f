/**
 * Work that the resources of one deployment share: Pulumi starts one provider process per
 * deployment and runs its resources' operations concurrently in it, so a look-up or a write that
 * every resource needs is made once, and resources that start together wait for the same promise
 * instead of racing. A failure is not kept: the next resource tries again.
 */
export function sharedOnce<T>(cache: Map<string, Promise<T>>, key: string, make: () => Promise<T>): Promise<T> {
  let p = cache.get(key);
  if (!p) {
    p = make();
    cache.set(key, p);
    p.catch(() => cache.delete(key));
  }
  return p;
}
