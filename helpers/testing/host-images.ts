// The host's Docker as the k3s preflight and preloading ask it (dockerode's getImage), answering
// for the images given and 404 for the rest, as the engine does.
import type { HostEngine, HostImageInfo } from "../targets/image-preload.ts";

export function hostWith(images: Record<string, HostImageInfo>): HostEngine {
  return {
    getImage: (name: string) => ({
      inspect: async () => {
        const found = images[name];
        if (!found) throw Object.assign(new Error(`(HTTP code 404) no such image - No such image: ${name}`), { statusCode: 404 });
        return found;
      },
      tag: async () => undefined,
      get: async () => {
        throw new Error("not used");
      },
    }),
  };
}
