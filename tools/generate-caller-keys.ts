// Makes the gateway's caller-token key pair (Ed25519) for docker compose and other deployments,
// and a SECRETS_KEY (32 random bytes) when the env file has none: --rotate never replaces that one,
// since values sealed with it would no longer open (rotate it by prepending a new key instead).
//   node tools/generate-caller-keys.ts             prints the two lines
//   node tools/generate-caller-keys.ts .env        adds them to .env (created with mode 0600)
//   node tools/generate-caller-keys.ts .env --rotate   replaces a pair already in .env
// The gateway gets CALLER_TOKEN_PRIVATE_KEY, the subgraphs CALLER_TOKEN_PUBLIC_KEY (decision 0004).
// PEM newlines are written as `\n` inside single quotes: docker compose, `source .env` and
// Node's --env-file all keep single-quoted values literally, and the services turn `\n` back into
// newlines. Needs only Node (no npm install): the keys are what jose's generateKeyPair('EdDSA')
// exports, PKCS#8 and SPKI PEM, so @gtm/caller reads them as its own.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';

const variableNames = ['CALLER_TOKEN_PRIVATE_KEY', 'CALLER_TOKEN_PUBLIC_KEY'] as const;

/** One PEM on one line, as env files and compose need it. */
function escape(pem: string): string {
  return pem.trim().replaceAll('\n', '\\n');
}

function keyLines(): string[] {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return [
    `CALLER_TOKEN_PRIVATE_KEY='${escape(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString())}'`,
    `CALLER_TOKEN_PUBLIC_KEY='${escape(publicKey.export({ type: 'spki', format: 'pem' }).toString())}'`,
  ];
}

function isKeyLine(line: string): boolean {
  return variableNames.some((name) => new RegExp(`^\\s*(export\\s+)?${name}\\s*=`).test(line));
}

function main(argv: string[]): number {
  const rotate = argv.includes('--rotate');
  const unknown = argv.filter((argument) => argument.startsWith('-') && argument !== '--rotate');
  const paths = argv.filter((argument) => !argument.startsWith('-'));
  if (unknown.length > 0 || paths.length > 1) {
    process.stderr.write('usage: node tools/generate-caller-keys.ts [path/to/.env [--rotate]]\n');
    return 2;
  }
  const envPath = paths[0];
  if (!envPath) {
    process.stdout.write(`${keyLines().join('\n')}\n`);
    return 0;
  }

  const existing = existsSync(envPath) ? readFileSync(envPath, 'utf8') : '';
  const lines = existing === '' ? [] : existing.replace(/\n$/, '').split('\n');
  if (lines.some(isKeyLine) && !rotate) {
    // Replacing them would sign with a key the running services do not know until they restart.
    process.stdout.write(`${envPath} already holds a caller key pair; kept it (pass --rotate to replace it).\n`);
    return 0;
  }
  const kept = lines.filter((line) => !isKeyLine(line));
  const secretsKey = kept.some((line) => /^\s*(export\s+)?SECRETS_KEY\s*=/.test(line)) ? [] : [`SECRETS_KEY='${randomBytes(32).toString('base64')}'`];
  writeFileSync(envPath, `${[...kept, ...keyLines(), ...secretsKey].join('\n')}\n`, { mode: 0o600 });
  chmodSync(envPath, 0o600); // the mode above applies only when the file is created
  process.stdout.write(`${rotate ? 'Replaced' : 'Wrote'} CALLER_TOKEN_PRIVATE_KEY and CALLER_TOKEN_PUBLIC_KEY in ${envPath} (mode 0600; keep it out of git).\n`);
  return 0;
}

process.exitCode = main(process.argv.slice(2));
