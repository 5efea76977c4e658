// The fleet's long-lived Node process: the OpenID provider and one stand-in kubelet per workload
// cluster. Started detached by `fleet up` (node e2e/fleet/daemon.ts <config.json>) and stopped
// by PID with the rest of the fleet.
import { readFile, writeFile } from "node:fs/promises";
import type { Server } from "node:https";
import { KubeRestClient } from "./kube-rest.ts";
import { type OidcClient, type OidcUser, startOidcProvider } from "./oidc.ts";
import { startStandInKubelet } from "./stand-in-kubelet.ts";

export interface DaemonConfig {
  readonly readyFile: string;
  readonly oidc: {
    readonly issuer: string;
    readonly port: number;
    readonly certFile: string;
    readonly keyFile: string;
    readonly signingJwkFile: string;
    readonly cookieKeyFile: string;
    readonly clients: readonly (Omit<OidcClient, "clientSecret"> & { clientSecretFile: string })[];
    readonly usersFile: string;
  };
  readonly kubelets: readonly {
    readonly clusterName: string;
    readonly nodeName: string;
    readonly port: number;
    readonly certFile: string;
    readonly keyFile: string;
    readonly clusterCaFile: string;
    readonly apiServer: string;
    readonly adminCertFile: string;
    readonly adminKeyFile: string;
  }[];
}

const text = (file: string) => readFile(file, "utf8");

export async function runDaemon(config: DaemonConfig): Promise<Server[]> {
  const servers: Server[] = [];
  const users = JSON.parse(await text(config.oidc.usersFile)) as OidcUser[];
  servers.push(
    await startOidcProvider({
      issuer: config.oidc.issuer,
      port: config.oidc.port,
      tlsCertPem: await text(config.oidc.certFile),
      tlsKeyPem: await text(config.oidc.keyFile),
      signingJwk: JSON.parse(await text(config.oidc.signingJwkFile)) as Record<string, unknown>,
      cookieKey: (await text(config.oidc.cookieKeyFile)).trim(),
      clients: await Promise.all(
        config.oidc.clients.map(async (client) => ({
          clientId: client.clientId,
          redirectUris: client.redirectUris,
          clientSecret: (await text(client.clientSecretFile)).trim(),
        })),
      ),
      users,
    }),
  );
  for (const kubelet of config.kubelets) {
    const caPem = await text(kubelet.clusterCaFile);
    servers.push(
      await startStandInKubelet({
        clusterName: kubelet.clusterName,
        nodeName: kubelet.nodeName,
        port: kubelet.port,
        tlsCertPem: await text(kubelet.certFile),
        tlsKeyPem: await text(kubelet.keyFile),
        clientCaPem: caPem,
        api: new KubeRestClient({
          server: kubelet.apiServer,
          caPem,
          certPem: await text(kubelet.adminCertFile),
          keyPem: await text(kubelet.adminKeyFile),
        }),
      }),
    );
  }
  await writeFile(config.readyFile, `${process.pid}\n`);
  return servers;
}

if (import.meta.main) {
  const configFile = process.argv[2];
  if (!configFile) {
    console.error("usage: node e2e/fleet/daemon.ts <config.json>");
    process.exit(2);
  }
  const config = JSON.parse(await readFile(configFile, "utf8")) as DaemonConfig;
  const servers = await runDaemon(config);
  console.log(`fleet daemon ready: OpenID provider ${config.oidc.issuer}, ${config.kubelets.length} stand-in kubelets`);
  const shutdown = () => {
    for (const server of servers) server.close();
    setTimeout(() => process.exit(0), 500).unref();
  };
  process.on("SIGTERM", shutdown);
  process.on("SIGINT", shutdown);
}
