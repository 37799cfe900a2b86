/**
 * Where files live when they do not live on the local disk: one S3 bucket, named by STORAGE_URL.
 *
 *   s3://BUCKET?endpoint=http://minio:9000&region=eu-west-2&forcePathStyle=true
 *
 * - `endpoint`: the S3-protocol server (MinIO, Ceph, a cloud's S3 service); unset, Amazon S3 itself.
 * - `region`: the bucket's region; `us-east-1` when unset (S3-compatible servers mostly ignore it).
 * - `forcePathStyle`: `true` addresses the bucket as `endpoint/BUCKET/key` rather than `BUCKET.endpoint/key`;
 *   the default is `true` with an `endpoint` (what MinIO and most self-hosted servers need), `false` without.
 *
 * Credentials are never in the URL: the AWS SDK's standard chain reads them (AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, a profile, or the instance's role).
 */
export interface S3Location {
  bucket: string;
  /** null: Amazon S3's own endpoint for the region. */
  endpoint: string | null;
  region: string;
  forcePathStyle: boolean;
}

const PARAMETERS = ['endpoint', 'region', 'forcePathStyle'];

/** S3's rules for bucket names: 3-63 lower-case letters, digits, dots and hyphens, starting and ending with a letter or digit. */
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** The bucket a STORAGE_URL names, or the one reason it is not a valid one (a sentence naming the problem). */
export function parseStorageUrl(value: string): S3Location | { problem: string } {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return { problem: 'STORAGE_URL must look like s3://bucket?endpoint=http://host:9000&region=eu-west-2' };
  }
  if (url.protocol !== 's3:') return { problem: 'STORAGE_URL must start with s3:// (unset it to keep files on the local disk)' };
  if (url.username || url.password) return { problem: 'STORAGE_URL must not carry credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY instead' };
  const bucket = url.hostname;
  if (!BUCKET_NAME.test(bucket)) return { problem: `STORAGE_URL must name a bucket of 3-63 lower-case letters, digits, dots or hyphens ("${bucket}" is not one)` };
  if (url.port || (url.pathname && url.pathname !== '/')) return { problem: 'STORAGE_URL must be s3://bucket with no port or path: the server goes in ?endpoint=' };
  const unknown = [...url.searchParams.keys()].find((key) => !PARAMETERS.includes(key));
  if (unknown !== undefined) return { problem: `STORAGE_URL has an unknown parameter "${unknown}" (known: ${PARAMETERS.join(', ')})` };
  const endpoint = url.searchParams.get('endpoint');
  if (endpoint !== null) {
    let parsed: URL | null = null;
    try {
      parsed = new URL(endpoint);
    } catch {
      // reported below
    }
    if (!parsed || !['http:', 'https:'].includes(parsed.protocol) || (parsed.pathname !== '/' && parsed.pathname !== '')) {
      return { problem: `STORAGE_URL's endpoint must be an http:// or https:// address with no path, such as http://minio:9000 ("${endpoint}" is not)` };
    }
  }
  const region = url.searchParams.get('region') ?? 'us-east-1';
  if (!/^[a-z0-9-]{1,40}$/.test(region)) return { problem: `STORAGE_URL's region must be a region name such as eu-west-2 ("${region}" is not)` };
  const pathStyle = url.searchParams.get('forcePathStyle');
  if (pathStyle !== null && !['true', 'false'].includes(pathStyle)) return { problem: `STORAGE_URL's forcePathStyle must be true or false ("${pathStyle}" is neither)` };
  return {
    bucket,
    endpoint: endpoint === null ? null : new URL(endpoint).origin,
    region,
    forcePathStyle: pathStyle === null ? endpoint !== null : pathStyle === 'true',
  };
}
