import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join, posix, relative } from 'node:path';
import { availableParallelism } from 'node:os';
import { type Readable, Transform, type TransformCallback, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { deflateRaw, gzip } from 'node:zlib';
import { pack as tarPack, type Header } from 'tar-stream';
import type { ProducedBlob } from '../registry/client.ts';
import { readContextFilter } from './dockerignore.ts';

/** A file of the build context as it goes into the layer. */
export interface ContextEntry {
  /** Path inside the image, without a leading "/". */
  name: string;
  type: 'file' | 'directory' | 'symlink';
  /** Where the bytes come from; absent for directories the layer adds as parents of workdir. */
  source?: string;
  size: number;
  mode: number;
  linkname?: string;
}

export interface LayerTar {
  /** sha256 of the uncompressed tar: the image config's diff_id. */
  diffId: string;
  size: number;
  files: number;
}

export interface LayerBlob {
  digest: string;
  size: number;
  tar: LayerTar;
}

/** Never in an image: a checkout's own git data changes with every fetch. */
const SKIPPED = new Set(['.git']);

/**
 * Lists the context under `workdir`, sorted, with the parents of workdir first, leaving out what
 * the context's `.dockerignore` excludes (so `.env` or `.npmrc` an earlier step wrote stay out, as
 * with `docker build`). Modes are reduced to what git records (executable or not), so a checkout
 * under any umask gives the same layer.
 */
export async function listContext(context: string, workdir: string): Promise<ContextEntry[]> {
  const root = posix.normalize(workdir).replace(/^\/+|\/+$/g, '');
  const entries: ContextEntry[] = [];
  const parts = root ? root.split('/') : [];
  for (let i = 1; i <= parts.length; i++) entries.push({ name: parts.slice(0, i).join('/'), type: 'directory', size: 0, mode: 0o755 });
  const filter = await readContextFilter(context);
  const walk = async (dir: string, relative: string): Promise<void> => {
    const names = (await readdir(dir, { encoding: 'buffer' })).map((raw) => utf8Name(raw, dir, context));
    for (const entryName of names.filter((n) => !SKIPPED.has(n)).sort()) {
      const source = join(dir, entryName);
      const path = relative ? `${relative}/${entryName}` : entryName;
      const name = root ? `${root}/${path}` : path;
      const info = await lstat(source);
      const excluded = filter.excludes(path);
      if (info.isDirectory()) {
        if (excluded && !filter.mayReinclude(path)) continue;
        const at = entries.length;
        await walk(source, path);
        // An excluded directory is there only as the parent of what an exception put back.
        if (!excluded || entries.length > at) entries.splice(at, 0, { name, type: 'directory', source, size: 0, mode: 0o755 });
      } else if (excluded) {
        continue;
      } else if (info.isFile()) {
        entries.push({ name, type: 'file', source, size: info.size, mode: info.mode & 0o111 ? 0o755 : 0o644 });
      } else if (info.isSymbolicLink()) {
        entries.push({ name, type: 'symlink', source, size: 0, mode: 0o777, linkname: await readlink(source) });
      }
      // Sockets, FIFOs and devices have no place in an image layer built from a checkout.
    }
  };
  await walk(context, '');
  return entries;
}

/**
 * A directory entry's name as text, or an error naming it. Names are read as bytes: decoding a
 * name that is not UTF-8 would replace its bad bytes and point at a file that does not exist. Such a
 * name is refused rather than packed, because a layer's tar records names as UTF-8 (pax `path`),
 * so the image could not hold the same name, and distinct names would collapse into one.
 */
function utf8Name(raw: Buffer, dir: string, context: string): string {
  if (isUtf8(raw)) return raw.toString('utf8');
  const shown = [...raw]
    .map((b) => (b >= 0x20 && b < 0x7f && b !== 0x5c ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`))
    .join('');
  const where = relative(context, dir);
  throw new Error(
    `The build context has a file whose name is not UTF-8: ${where ? `${where}/` : ''}${shown} (in ${context}). Image layers store names as UTF-8: rename it (e.g. with convmv) or remove it before this step`,
  );
}

/** Hashes what streams through it. */
class Digester extends Transform {
  readonly hash = createHash('sha256');
  size = 0;
  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.hash.update(chunk);
    this.size += chunk.length;
    done(null, chunk);
  }
  digest(): string {
    return `sha256:${this.hash.digest('hex')}`;
  }
}

/**
 * Streams the layer as a tar whose bytes depend only on names, contents and executable bits:
 * entries sorted, owner root (0:0, no names), every time `mtime`.
 */
function layerTar(entries: ContextEntry[], mtime: Date): Readable {
  const pack = tarPack();
  const add = async (entry: ContextEntry) => {
    const header: Header = {
      // Directories end in "/", as Docker and BuildKit write them.
      name: entry.type === 'directory' ? `${entry.name}/` : entry.name,
      type: entry.type,
      mode: entry.mode,
      mtime,
      uid: 0,
      gid: 0,
      uname: '',
      gname: '',
      devmajor: 0,
      devminor: 0,
      size: entry.type === 'file' ? entry.size : 0,
      linkname: entry.linkname ?? '',
    };
    if (entry.type !== 'file') {
      await new Promise<void>((done, fail) => pack.entry(header, (error) => (error ? fail(error) : done())));
      return;
    }
    await new Promise<void>((done, fail) => {
      const sink = pack.entry(header, (error) => (error ? fail(error) : done()));
      pipeline(createReadStream(entry.source!), sink as unknown as Writable).catch(fail);
    });
  };
  (async () => {
    for (const entry of entries) await add(entry);
    pack.finalize();
  })().catch((error: Error) => pack.destroy(error));
  return pack as unknown as Readable;
}

/**
 * The layer's diff_id (sha256 of the uncompressed tar) without writing or compressing anything:
 * enough to find the same content already pushed.
 */
export async function hashLayer(entries: ContextEntry[], mtime: Date): Promise<LayerTar> {
  const digester = new Digester();
  await pipeline(layerTar(entries, mtime), digester, new Writable({ write: (_chunk, _encoding, done) => done() }));
  return { diffId: digester.digest(), size: digester.size, files: entries.filter((e) => e.type === 'file').length };
}

const gzipBlock = promisify(gzip);
const deflateProbe = promisify(deflateRaw);
const PROBE = 64 * 1024;

/**
 * Compresses one block at level 6, or stores it (level 0) when a quick look at its start shows
 * it will not shrink: compressed media and random data then cost a copy, not a full deflate.
 * The choice depends on the bytes alone, so the output stays deterministic.
 */
async function compressBlock(block: Buffer): Promise<Buffer> {
  const sample = block.subarray(0, PROBE);
  const probe = await deflateProbe(sample, { level: 1 });
  const level = probe.length >= sample.length * 0.98 ? 0 : 6;
  return normalizeHeader(await gzipBlock(block, { level, chunkSize: memberBound(block.length) }));
}

/**
 * Room for a whole gzip member of `length` bytes (zlib's deflateBound plus the wrapper), so zlib
 * writes it in one pass instead of 16 KiB output chunks, each a round trip to the thread pool.
 * The chunk size also sets where zlib cuts stored blocks: it depends on the length alone, so the
 * bytes stay a function of the input.
 */
function memberBound(length: number): number {
  return length + (length >> 11) + 64;
}
/** Blocks of the tar compressed on their own, side by side on the libuv pool. */
const BLOCK = 4 * 1024 * 1024;
const IN_FLIGHT = Math.max(2, availableParallelism());

/**
 * zlib leaves the gzip header's time at zero and names no file, but writes the OS it runs on;
 * set it to 255 ("unknown"), as Go's compress/gzip does, so macOS and Linux give the same bytes.
 */
function normalizeHeader(member: Buffer): Buffer {
  member[9] = 0xff;
  return member;
}

/**
 * Gzip as concatenated members of fixed 4 MiB blocks, compressed in parallel (as pigz -i and
 * pgzip do). Members are valid gzip that every reader (Go's, GNU's, zlib's) reads as one stream;
 * fixed block boundaries and level keep the output a function of the input alone.
 */
async function* parallelGzip(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const pending: Array<Promise<Buffer>> = [];
  let block: Buffer[] = [];
  let filled = 0;
  const flush = () => {
    pending.push(compressBlock(Buffer.concat(block, filled)));
    block = [];
    filled = 0;
  };
  for await (const input of source) {
    let chunk = input;
    while (chunk.length > 0) {
      const take = Math.min(chunk.length, BLOCK - filled);
      block.push(chunk.subarray(0, take));
      filled += take;
      chunk = chunk.subarray(take);
      if (filled === BLOCK) flush();
    }
    while (pending.length >= IN_FLIGHT) yield await pending.shift()!;
  }
  if (filled > 0) flush();
  while (pending.length > 0) yield await pending.shift()!;
}

/**
 * The compressed layer as a stream, to be sent as it is made (no file, and compressing overlaps
 * the upload); `done` gives both digests once the stream has been read to its end. The same
 * entries and time always give the same bytes.
 */
export function compressedLayer(entries: ContextEntry[], mtime: Date): ProducedBlob<LayerBlob> {
  const uncompressed = new Digester();
  const compressed = new Digester();
  const done = pipeline(layerTar(entries, mtime), uncompressed, parallelGzip, compressed).then(() => ({
    digest: compressed.digest(),
    size: compressed.size,
    tar: { diffId: uncompressed.digest(), size: uncompressed.size, files: entries.filter((e) => e.type === 'file').length },
  }));
  return { body: compressed, done };
}
