import type { BlobSource, RegistryClient } from './client.ts';
import type { Descriptor } from './media-types.ts';

export function bufferBlob(bytes: Buffer, digest: string): BlobSource {
  return { digest, size: bytes.length, seekable: true, open: async (start, end) => bytes.subarray(start, end) };
}

/** A blob read from another repository or registry as it is sent: streamed, never held whole. */
export function remoteBlob(client: RegistryClient, repository: string, descriptor: Descriptor): BlobSource {
  return { digest: descriptor.digest, size: descriptor.size, seekable: false, open: () => client.getBlob(repository, descriptor.digest) };
}
