import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { Transform, type TransformCallback, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { pack as tarPack, type Header } from 'tar-stream';

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
  path: string;
  /** sha256 of the uncompressed tar: the image config's diff_id. */
  diffId: string;
  size: number;
  files: number;
}

export interface LayerBlob {
  path: string;
  digest: string;
  size: number;
}

/** Never in an image: a checkout's own git data changes with every fetch. */
const SKIPPED = new Set(['.git']);

/**
 * Lists the context under `workdir`, sorted, with the parents of workdir first. Modes are reduced
 * to what git records (executable or not), so a checkout under any umask gives the same layer.
 */
export async function listContext(context: string, workdir: string): Promise<ContextEntry[]> {
  const root = posix.normalize(workdir).replace(/^\/+|\/+$/g, '');
  const entries: ContextEntry[] = [];
  const parts = root ? root.split('/') : [];
  for (let i = 1; i <= parts.length; i++) entries.push({ name: parts.slice(0, i).join('/'), type: 'directory', size: 0, mode: 0o755 });
  const walk = async (dir: string, prefix: string): Promise<void> => {
    const names = (await readdir(dir)).filter((n) => !SKIPPED.has(n)).sort();
    for (const entryName of names) {
      const source = join(dir, entryName);
      const name = prefix ? `${prefix}/${entryName}` : entryName;
      const info = await lstat(source);
      if (info.isDirectory()) {
        entries.push({ name, type: 'directory', source, size: 0, mode: 0o755 });
        await walk(source, name);
      } else if (info.isFile()) {
        entries.push({ name, type: 'file', source, size: info.size, mode: info.mode & 0o111 ? 0o755 : 0o644 });
      } else if (info.isSymbolicLink()) {
        entries.push({ name, type: 'symlink', source, size: 0, mode: 0o777, linkname: await readlink(source) });
      }
      // Sockets, FIFOs and devices have no place in an image layer built from a checkout.
    }
  };
  await walk(context, root);
  return entries;
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
 * Writes the layer as a tar whose bytes depend only on names, contents and executable bits:
 * entries sorted, owner root (0:0, no names), every time `mtime`.
 */
export async function writeLayerTar(entries: ContextEntry[], mtime: Date, path: string): Promise<LayerTar> {
  const pack = tarPack();
  const digester = new Digester();
  const written = pipeline(pack, digester, createWriteStream(path));
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
  try {
    for (const entry of entries) await add(entry);
    pack.finalize();
  } catch (error) {
    pack.destroy(error as Error);
  }
  await written;
  return { path, diffId: digester.digest(), size: digester.size, files: entries.filter((e) => e.type === 'file').length };
}

/**
 * zlib leaves the gzip header's time at zero and names no file, but writes the OS it runs on;
 * set it to 255 ("unknown"), as Go's compress/gzip does, so macOS and Linux give the same bytes.
 */
class GzipHeaderNormalizer extends Transform {
  private patched = false;
  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    if (!this.patched && chunk.length > 9) {
      chunk[9] = 0xff;
      this.patched = true;
    }
    done(null, chunk);
  }
}

/** Compresses the tar at a fixed level, so the same tar always gives the same blob digest. */
export async function gzipLayer(tarPath: string, path: string): Promise<LayerBlob> {
  const digester = new Digester();
  await pipeline(createReadStream(tarPath), createGzip({ level: 6 }), new GzipHeaderNormalizer(), digester, createWriteStream(path));
  return { path, digest: digester.digest(), size: digester.size };
}
