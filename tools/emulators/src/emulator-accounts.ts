/**
 * The emulators' accounts, and how each one's bucket is made: the same whether the emulator runs as
 * a local process, as a container of the emulator runtime, or beside Conifer's image in a stack.
 */
export const S3_USER = 'conifer';
export const S3_SECRET = 'conifer-emulator-secret';
export const GCS_PROJECT = 'conifer-emulator';
/** Azurite's well-known development account (public, documented by Microsoft). */
export const AZURITE_ACCOUNT = 'devstoreaccount1';
export const AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

/** The connection string of Azurite's account at `blobEndpoint` (its URL, account path included). */
export function azuriteConnectionString(blobEndpoint: string): string {
  return `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};BlobEndpoint=${blobEndpoint};`;
}

/** Makes `bucket` on the S3 emulator at `endpoint` (path-style, the emulator account). */
/**
 * The standard variables an S3 client (Conifer's included) reads to reach the emulator at
 * `endpoint` with its account; path-style addressing, as emulators need.
 */
export function s3ClientEnv(endpoint: string, region: string): Record<string, string> {
  return {
    AWS_ENDPOINT_URL_S3: endpoint,
    AWS_ACCESS_KEY_ID: S3_USER,
    AWS_SECRET_ACCESS_KEY: S3_SECRET,
    AWS_REGION: region,
    CONIFER_S3_FORCE_PATH_STYLE: 'true',
  };
}

export async function createS3Bucket(endpoint: string, bucket: string): Promise<void> {
  const { S3Client, CreateBucketCommand } = await import('@aws-sdk/client-s3');
  const client = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: S3_USER, secretAccessKey: S3_SECRET } });
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  } finally {
    client.destroy();
  }
}

/** Makes `bucket` on the fake-gcs-server at `endpoint`, in the emulator project. */
export async function createGcsBucket(endpoint: string, bucket: string): Promise<void> {
  const res = await fetch(`${endpoint}/storage/v1/b?project=${GCS_PROJECT}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: bucket }),
  });
  if (!res.ok) throw new Error(`fake-gcs-server: creating bucket ${bucket} failed: ${res.status} ${await res.text()}`);
}

/** Makes the blob container `container` on the Azurite the connection string names, unless it exists. */
export async function createAzureContainer(connectionString: string, container: string): Promise<void> {
  const { BlobServiceClient } = await import('@azure/storage-blob');
  await BlobServiceClient.fromConnectionString(connectionString).getContainerClient(container).createIfNotExists();
}
