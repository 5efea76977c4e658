// Per-run PKI for the fleet, made with the machine's openssl. Nothing here is ever committed:
// every key is generated into the run's temporary directory and removed by `down`.
import { execFile } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface CertificateFiles {
  readonly certFile: string;
  readonly keyFile: string;
}

export interface CertificateAuthority extends CertificateFiles {
  readonly name: string;
}

export interface LeafOptions {
  /** Common name; for client certificates this is the Kubernetes username. */
  readonly commonName: string;
  /** Organisations; for client certificates these are the Kubernetes groups. */
  readonly organizations?: readonly string[];
  readonly usage: "server" | "client";
  readonly ipAddresses?: readonly string[];
  readonly dnsNames?: readonly string[];
}

const validityDays = "30";

async function openssl(args: readonly string[]): Promise<void> {
  await run("openssl", args as string[], { maxBuffer: 1024 * 1024 });
}

function subject(commonName: string, organizations: readonly string[] = []): string {
  const escapeValue = (value: string) => value.replace(/[/\\=+,]/g, (character) => `\\${character}`);
  return `${organizations.map((organization) => `/O=${escapeValue(organization)}`).join("")}/CN=${escapeValue(commonName)}`;
}

async function generateKey(keyFile: string): Promise<void> {
  await openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", keyFile]);
}

export async function createCertificateAuthority(directory: string, name: string): Promise<CertificateAuthority> {
  await mkdir(directory, { recursive: true, mode: 0o700 });
  const keyFile = path.join(directory, `${name}-ca.key`);
  const certFile = path.join(directory, `${name}-ca.crt`);
  await generateKey(keyFile);
  await openssl([
    "req",
    "-x509",
    "-new",
    "-key",
    keyFile,
    "-sha256",
    "-days",
    validityDays,
    "-subj",
    subject(`${name}-ca`),
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign,digitalSignature",
    "-out",
    certFile,
  ]);
  return { name, certFile, keyFile };
}

export async function issueCertificate(
  authority: CertificateAuthority,
  directory: string,
  fileStem: string,
  options: LeafOptions,
): Promise<CertificateFiles> {
  const keyFile = path.join(directory, `${fileStem}.key`);
  const certFile = path.join(directory, `${fileStem}.crt`);
  const requestFile = path.join(directory, `${fileStem}.csr`);
  const extensionsFile = path.join(directory, `${fileStem}.ext`);
  await generateKey(keyFile);
  await openssl([
    "req",
    "-new",
    "-key",
    keyFile,
    "-subj",
    subject(options.commonName, options.organizations),
    "-out",
    requestFile,
  ]);
  const alternativeNames = [
    ...(options.ipAddresses ?? []).map((address) => `IP:${address}`),
    ...(options.dnsNames ?? []).map((name) => `DNS:${name}`),
  ];
  const extensions = [
    "basicConstraints=critical,CA:FALSE",
    "keyUsage=critical,digitalSignature,keyEncipherment",
    `extendedKeyUsage=${options.usage === "server" ? "serverAuth" : "clientAuth"}`,
    ...(alternativeNames.length > 0 ? [`subjectAltName=${alternativeNames.join(",")}`] : []),
  ];
  await writeFile(extensionsFile, `${extensions.join("\n")}\n`);
  await openssl([
    "x509",
    "-req",
    "-in",
    requestFile,
    "-CA",
    authority.certFile,
    "-CAkey",
    authority.keyFile,
    // A random serial per certificate: -CAcreateserial races when certificates are issued in parallel.
    "-set_serial",
    `0x${randomBytes(16).toString("hex")}`,
    "-sha256",
    "-days",
    validityDays,
    "-extfile",
    extensionsFile,
    "-out",
    certFile,
  ]);
  return { certFile, keyFile };
}

/** A service-account signing key pair for kube-apiserver (`--service-account-*-key-file`). */
export async function createServiceAccountKeys(
  directory: string,
  name: string,
): Promise<{ publicKeyFile: string; privateKeyFile: string }> {
  const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const publicKeyFile = path.join(directory, `${name}-sa.pub`);
  const privateKeyFile = path.join(directory, `${name}-sa.key`);
  await writeFile(publicKeyFile, publicKey.export({ type: "spki", format: "pem" }));
  await writeFile(privateKeyFile, privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
  return { publicKeyFile, privateKeyFile };
}

export async function readPem(file: string): Promise<string> {
  return readFile(file, "utf8");
}

export function base64(text: string): string {
  return Buffer.from(text, "utf8").toString("base64");
}
