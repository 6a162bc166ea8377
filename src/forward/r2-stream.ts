/** R2's smallest multipart part; every part but the last must have the same size. */
export const PART_BYTES = 5 * 1024 * 1024;

/**
 * Writes a stream of unknown length (a gzip stream, say) to R2 holding at most
 * one part in memory: a body that fits in one part is a plain put, anything
 * larger a multipart upload, aborted if the stream fails.
 */
export async function putStream(
  bucket: R2Bucket,
  key: string,
  stream: ReadableStream<Uint8Array>,
  options: R2PutOptions & R2MultipartOptions = {},
  partBytes: number = PART_BYTES,
): Promise<void> {
  const reader = stream.getReader();
  let leftover: Uint8Array | undefined;
  let finished = false;

  /** The next part: exactly `partBytes`, unless the stream ends first. */
  const nextPart = async (): Promise<Uint8Array> => {
    const part = new Uint8Array(partBytes);
    let filled = 0;
    while (filled < partBytes) {
      let chunk = leftover;
      leftover = undefined;
      if (!chunk) {
        const { done, value } = await reader.read();
        if (done) {
          finished = true;
          break;
        }
        chunk = value;
      }
      const take = Math.min(chunk.byteLength, partBytes - filled);
      part.set(chunk.subarray(0, take), filled);
      filled += take;
      if (take < chunk.byteLength) leftover = chunk.subarray(take);
    }
    return part.subarray(0, filled);
  };

  const first = await nextPart();
  if (finished && !leftover) {
    await bucket.put(key, first, options);
    return;
  }
  const upload = await bucket.createMultipartUpload(key, options);
  try {
    const uploaded: R2UploadedPart[] = [await upload.uploadPart(1, first)];
    while (!finished || leftover) {
      const part = await nextPart();
      if (part.byteLength === 0) break;
      uploaded.push(await upload.uploadPart(uploaded.length + 1, part));
    }
    await upload.complete(uploaded);
  } catch (err) {
    await upload.abort().catch(() => undefined);
    await reader.cancel(err).catch(() => undefined);
    throw err;
  }
}
