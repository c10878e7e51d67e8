/**
 * The `encumber` command line. Parsing by commander; each command lives in
 * src/cli/commands and returns its exit code.
 *
 * Commands are declared here (name, options, help) and their modules are
 * imported only when the command runs, so `encumber --help` or `plc verify`
 * never loads the server, the attestation verifiers or the image code. `serve`
 * takes its options from its own module (the enclave entry point shares them),
 * so that module is imported before parsing when the command line names serve.
 */
import { Command, CommanderError } from 'commander';
import pkg from '../../package.json' with { type: 'json' };
import { EXIT_OK, EXIT_USAGE, UsageProblem, processIo, type CliIo } from './io.ts';
import type { PlcVerifyFlags } from './commands/plc-verify.ts';
import type { AuditFlags } from './commands/audit.ts';
import type { ServeFlags } from './commands/serve.ts';
import type { MeasureFlags } from './commands/measure.ts';
import type { RebuildFlags } from './commands/rebuild.ts';
import type { AttestFlags, RecordVerifyFlags } from './commands/verify.ts';
import type { PublishFlags } from './commands/publish.ts';

type ServeModule = typeof import('./commands/serve.ts');

/** The command a command line runs: its first word (`help <command>` names one too). The program itself has no option taking a value. */
function commandName(argv: string[]): string | undefined {
  const words = argv.filter((a) => !a.startsWith('-'));
  return words[0] === 'help' ? words[1] : words[0];
}

function buildProgram(io: CliIo, setExit: (code: number) => void, serveModule: ServeModule | undefined): Command {
  const program = new Command('encumber')
    .description('An encumbered atproto signing key: M-of-N did:plc co-signing inside a TEE')
    .version(pkg.version)
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });

  const serveCommand = program.command('serve').description('start the signing service (npm start = dev platform, embedded demo policy)');
  (serveModule ? serveModule.addServeOptions(serveCommand) : serveCommand).action(async (flags: ServeFlags) => {
    // main() loads the module whenever commander can dispatch here; this guards that promise.
    if (!serveModule) throw new Error('serve: its module was not loaded before parsing');
    await serveModule.serve(flags, io);
    setExit(-1); // keep running
  });

  program
    .command('demo')
    .description('the whole flow on one machine: 3 members, 2 co-sign, the enclave signs, a verifier checks; then bad drafts are refused')
    .option('--pds', 'the story against a local reference PDS and PLC directory (started and stopped here; needs PostgreSQL and a source checkout): publish, then verify the post by its at:// URI')
    .action(async (flags: { pds?: boolean }) => setExit(await (await import('./commands/demo.ts')).demo(io, flags)));

  program
    .command('measure')
    .description('print the measurements of this checkout as measurements JSON to pin with --measurements: dev platform (source tree and bundle), or the SEV-SNP launch measurement of an image build')
    .option('--platform <p>', 'dev (default) or sev-snp')
    .option('--bundle <file>', 'dev: measure this bundle (default dist/encumber-enclave.mjs if built)')
    .option('--vcpus <n,...>', 'sev-snp: vCPU count(s) (default 2)')
    .option('--cpu <model,...>', 'sev-snp: QEMU vCPU model(s): EPYC-v4, EPYC-Milan, EPYC-Genoa, EPYC-Turin (default all four)')
    .option('--guest-features <hex,...>', 'sev-snp: SEV_FEATURES of the VMSAs (default 0x1)')
    .option('--build-dir <dir>', 'sev-snp: the image build to measure: OVMF.fd, bzImage, initramfs.cpio.gz, manifest.json snp.cmdline (default build/out)')
    .option('--out <file>', 'write the JSON here')
    .action(async (flags: MeasureFlags) => setExit(await (await import('./commands/measure.ts')).measure(flags, io)));

  program
    .command('rebuild')
    .description('rebuild the enclave image from this checkout and compare its measurement (Nitro/dev PCRs, SEV-SNP launch measurement) with the attested one, check by check; exit 0 equal, 1 different, 2 usage/IO')
    .option('--compare <evidence>', 'evidence file (raw document, SNP report ‖ certificate table, or a getAttestation answer)')
    .option('--pcr0 <hex>', 'or: the attested PCR0')
    .option('--pcr1 <hex>', 'and PCR1')
    .option('--pcr2 <hex>', 'and PCR2')
    .option('--measurement <hex>', 'or: an attested SEV-SNP launch measurement')
    .option('--vcpus <n,...>', 'sev-snp: the guest\'s vCPU count(s) (default: try 1..64)')
    .option('--cpu <model,...>', 'sev-snp: the QEMU vCPU model(s) (default: try EPYC-v4, EPYC-Milan, EPYC-Genoa, EPYC-Turin)')
    .option('--guest-features <hex,...>', 'sev-snp: SEV_FEATURES (default: try 0x1 and 0x21)')
    .option('--platform <p>', 'with --pcrN: nitro (EIF PCRs) or dev (bundle PCRs)', 'nitro')
    .option('--root <pem>', 'root for dev evidence (default: the AWS Nitro root)')
    .option('--min-tcb <spec>', 'SEV-SNP: minimum reported TCB: none, bl=N,tee=N,snp=N,ucode=N[,fmc=N] or JSON (default: the AMD bulletins of attestation/snp-tcb-floor.json published by --at)')
    .option('--vmpl <n>', 'SEV-SNP: the VMPL the report must come from, 0..3 or any (default 0)')
    .option('--at <iso>', 'check the evidence at this time (default: now)')
    .option('--build-dir <dir>', 'use this earlier build instead of rebuilding')
    .option('--json', 'print { equal, checks }')
    .action(async (flags: RebuildFlags) => setExit(await (await import('./commands/rebuild.ts')).rebuild(flags, io)));

  const plc = program.command('plc').description('did:plc audit logs');
  plc
    .command('verify')
    .description('verify an audit log (the JSON array served at GET /:did/log/audit); exit 0 valid, 1 invalid, 2 usage/IO')
    .argument('<file>', 'audit-log JSON file, or - for stdin')
    .option('--did <did>', 'the DID the log is for (default: the first entry\'s did)')
    .option('--json', 'print one JSON object { valid, did, head, error }')
    .option('--spec-strict', 'also reject empty or duplicate rotationKeys (creation-time rules)')
    .option('--at <iso>', 'reject entries created after this time (plus 5 min skew)')
    .action(async (file: string, flags: PlcVerifyFlags) => setExit(await (await import('./commands/plc-verify.ts')).plcVerify(file, flags, io)));

  program
    .command('audit')
    .description('audit a receipt against a PLC directory: was a newer operation of any signer already there at signedAt? exit 0 fresh, 1 stale/invalid, 2 usage/IO')
    .argument('<receipt>', 'a receipt, a signRecord answer or a signed record (JSON)')
    .requiredOption('--directory <url>', 'the PLC directory to compare with')
    .option('--identity <url|file>', 'the enclave (URL) or its getIdentity answer (file) whose attestation you verified: the key the receipt must verify with')
    .option('--key <did:key>', 'or: the enclave key, known from elsewhere (a key named by the audited file itself is never used)')
    .option('--json', 'print one JSON object { fresh, signedAt, signature, signatureDetail, heads }')
    .action(async (file: string, flags: AuditFlags) => setExit(await (await import('./commands/audit.ts')).audit(file, flags, io)));

  const attest = program.command('attest').description('attestation evidence');
  attest
    .command('verify')
    .description('verify attestation evidence: Nitro or dev COSE document, SEV-SNP report (with certificates), or a getAttestation JSON response; exit 0 valid, 1 invalid, 2 usage/IO')
    .argument('<file>', 'evidence file')
    .option('--certs <paths...>', 'SEV-SNP: certificate DER files (vcek/vlek/ask/asvk/ark.der), a directory of them, or a certificate table (default: next to the report)')
    .option('--binding <file>', 'the binding document (or a getIdentity answer) the evidence must attest')
    .option('--root <pem>', 'trust this root instead of the AWS Nitro root (a dev root must be given explicitly)')
    .option('--at <iso>', 'check validity at this time (default: now)')
    .option('--measurements <file>', 'accept only these published measurements (attestation/measurements.json, or `encumber measure` output)')
    .option('--expect-pcr0 <hex>', 'accept only this PCR0')
    .option('--any-measurement', 'accept any program (the measurement is then NOT checked)')
    .option('--nonce <hex>', 'require this nonce')
    .option('--allow-debug', 'accept debug-mode enclaves (all-zero PCRs)')
    .option('--min-tcb <spec>', 'SEV-SNP: minimum reported TCB: none, bl=N,tee=N,snp=N,ucode=N[,fmc=N] or JSON (default: the AMD bulletins of attestation/snp-tcb-floor.json published by --at)')
    .option('--vmpl <n>', 'SEV-SNP: the VMPL the report must come from, 0..3 or any (default 0)')
    .option('--policy-cid <cid>', 'trust only this policy (the binding must name it)')
    .option('--repository <did>', 'trust only a policy for this repository (needs --binding with a getIdentity answer)')
    .option('--json', 'print { valid, platform, scope, policyPinned, warnings, checks, error }')
    .action(async (file: string, flags: AttestFlags) => setExit(await (await import('./commands/verify.ts')).attestVerify(file, flags, io)));

  const record = program.command('record').description('published records');
  record
    .command('verify')
    .description('verify a signed record: enclave signature, receipt, binding, co-signatures (and attestation when available)')
    .argument('<record>', 'the signed record JSON (or a signRecord / getRecord answer), or its at:// URI or bsky.app post URL (read from the network with the commit signature and inclusion proof)')
    .requiredOption('--identity <url|file>', 'enclave URL (live check with a fresh nonce) or a getIdentity JSON file')
    .option('--evidence <file>', 'attestation evidence file to check as well')
    .option('--root <pem>', 'trust this root (needed for the dev platform)')
    .option('--at <iso>', 'check evidence validity at this time')
    .option('--allow-debug', 'accept debug-mode enclaves')
    .option('--min-tcb <spec>', 'SEV-SNP: minimum reported TCB: none, bl=N,tee=N,snp=N,ucode=N[,fmc=N] or JSON (default: the AMD bulletins of attestation/snp-tcb-floor.json published by --at)')
    .option('--vmpl <n>', 'SEV-SNP: the VMPL the report must come from, 0..3 or any (default 0)')
    .option('--measurements <file>', 'accept only these published measurements')
    .option('--expect-pcr0 <hex>', 'accept only this PCR0')
    .option('--any-measurement', 'accept any program (the measurement is then NOT checked)')
    .option('--plc-logs <file>', "co-signers' audit logs (JSON map DID → log, or a draft with plcLogs): re-check each co-signer's key")
    .option('--trust-identity', 'skip the attestation on purpose (an identity file you already trust)')
    .option('--policy-cid <cid>', 'trust only this policy')
    .option('--repository <did>', 'trust only a policy for this repository')
    .option('--plc <url>', 'for an at:// record: the PLC directory that resolves did:plc (and the co-signers\' logs)', 'https://plc.directory')
    .option('--pds <url>', 'for an at:// record: read it from this PDS instead of the one its DID names')
    .option('--handle-resolver <url>', 'for a handle in the URI: the service whose resolveHandle to ask (default https://public.api.bsky.app); the DID must claim the handle back')
    .option('--uri <at-uri>', 'where the record file was published: its repository must be the policy\'s')
    .option('--json', 'print { valid, platform, policyPinned, warnings, checks, error }')
    .action(async (file: string, flags: RecordVerifyFlags) => setExit(await (await import('./commands/verify.ts')).recordVerify(file, flags, io)));

  const key = program.command('key').description('keys');
  key
    .command('inspect')
    .description('show the curve and compressed public key of a did:key')
    .argument('<didkey>', 'did:key:z...')
    .option('--json', 'print JSON')
    .action(async (didKey: string, flags: { json?: boolean }) => setExit((await import('./commands/key-inspect.ts')).keyInspect(didKey, flags, io)));

  const member = program.command('member').description('member tools (run on members\' machines, not in the enclave)');
  member
    .command('keygen')
    .description('create a k256 member key file (private: keep it 0600)')
    .option('--out <file>', 'write the key file here (refuses to overwrite); default: print it')
    .action(async (flags: { out?: string }) => setExit(await (await import('./commands/member.ts')).memberKeygen(flags, io)));
  member
    .command('add-key')
    .description('build and sign the PLC operation that adds a member key under a key id; prints it, sends it only with --directory')
    .requiredOption('--did <did>', 'the member\'s did:plc')
    .requiredOption('--log <file>', 'the DID\'s current audit log (GET /:did/log/audit)')
    .requiredOption('--rotation-key <file>', 'key file of one of the DID\'s rotation keys')
    .requiredOption('--member-key <file|did:key>', 'the key to add (key file or did:key)')
    .option('--key-id <id>', 'verification method id', 'encumber')
    .option('--directory <url>', 'submit the operation to this PLC directory')
    .option('--out <file>', 'write the operation here')
    .action(async (flags) => setExit(await (await import('./commands/member.ts')).memberAddKey(flags, io)));

  program
    .command('draft')
    .description('start a draft (a signRecord request body) for members to co-sign')
    .requiredOption('--repository <did>', 'the org repository (the policy\'s repository)')
    .option('--collection <nsid>', 'collection', 'app.bsky.feed.post')
    .option('--text <text>', 'post text (makes an app.bsky.feed.post record)')
    .option('--record <file>', 'or: the record JSON')
    .option('--out <file>', 'write the draft here')
    .action(async (flags) => setExit(await (await import('./commands/member.ts')).draftNew(flags, io)));
  program
    .command('cosign')
    .description('show the payload a draft asks you to sign, ask for confirmation (unless --yes), then add your co-signature (rewrites the draft file unless --out); drafts with duplicate JSON keys are refused')
    .argument('<draft>', 'draft JSON file, or -')
    .requiredOption('--key <file>', 'your member key file')
    .requiredOption('--issuer <did>', 'your did:plc')
    .option('--plc-log <file>', 'attach your audit log (for policies with plc.source = supplied)')
    .option('--out <file>', 'write the co-signed draft here')
    .option('--yes', 'sign without asking (the payload is still printed); needed when stdin is not a terminal')
    .action(async (draft: string, flags) => setExit(await (await import('./commands/member.ts')).cosign(draft, flags, io)));
  program
    .command('submit')
    .description('send a co-signed draft to the enclave (signRecord); prints the signed record')
    .argument('<draft>', 'draft JSON file, or -')
    .requiredOption('--enclave <url>', 'enclave base URL, e.g. http://127.0.0.1:8080')
    .option('--out <file>', 'write the answer here')
    .option('--publish', 'then publish the signed record to the PDS (as `publish` does, verified against the enclave\'s identity)')
    .option('--pds <url>', 'with --publish: the organisation\'s PDS, e.g. https://pds.example.com')
    .option('--identifier <handle|did>', 'with --publish: the organisation\'s handle or DID (its repository is the policy\'s)')
    .option('--app-password-file <file>', 'with --publish: a file holding the app password (default: the ENCUMBER_APP_PASSWORD environment variable)')
    .action(async (draft: string, flags) => setExit(await (await import('./commands/member.ts')).submit(draft, flags, io)));
  const upgrade = program.command('upgrade').description('quorum-approved upgrades: the enclave key may move to another release (docs/key-handoff.md)');
  upgrade
    .command('draft')
    .description('start an upgrade draft: a dev.encumber.upgrade statement naming the enclave\'s policy and the measurements to approve')
    .requiredOption('--measurements <file>', 'the measurements to approve (the shape of attestation/measurements.json)')
    .requiredOption('--enclave <url|file>', 'the enclave (URL) or its getIdentity answer (file): the policy CID comes from it')
    .option('--out <file>', 'write the draft here')
    .action(async (flags) => setExit(await (await import('./commands/upgrade.ts')).upgradeDraft(flags, io)));
  upgrade
    .command('cosign')
    .description('show the statement an upgrade draft asks you to approve, ask for confirmation (unless --yes), then add your co-signature')
    .argument('<draft>', 'upgrade draft JSON file, or -')
    .requiredOption('--key <file>', 'your member key file')
    .requiredOption('--issuer <did>', 'your did:plc')
    .option('--plc-log <file>', 'attach your audit log (for policies with plc.source = supplied)')
    .option('--out <file>', 'write the co-signed draft here')
    .option('--yes', 'sign without asking (the statement is still printed)')
    .action(async (draft: string, flags) => setExit(await (await import('./commands/upgrade.ts')).upgradeCosign(draft, flags, io)));
  upgrade
    .command('submit')
    .description('send a co-signed upgrade draft to the enclave (approveUpgrade); prints the approval')
    .argument('<draft>', 'upgrade draft JSON file, or -')
    .requiredOption('--enclave <url>', 'enclave base URL')
    .option('--out <file>', 'write the answer here')
    .action(async (draft: string, flags) => setExit(await (await import('./commands/upgrade.ts')).upgradeSubmit(draft, flags, io)));
  upgrade
    .command('verify')
    .description('check the upgrades an enclave publishes (getUpgrades) against its identity: quorum, receipt, and with --plc-logs each co-signer\'s key; exit 0 all verify, 1 refused or none, 2 usage/IO')
    .requiredOption('--identity <url|file>', 'the enclave (URL) or its getIdentity answer (file)')
    .option('--upgrades <file>', 'the getUpgrades answer (default: fetched from --identity URL)')
    .option('--plc-logs <file>', 'map DID -> audit log, to re-derive each co-signer\'s key')
    .option('--json', 'print the verdicts as JSON')
    .action(async (flags) => setExit(await (await import('./commands/upgrade.ts')).upgradeVerify(flags, io)));

  const did = program.command('did').description('the DID guard: quorum-approved changes to the organisation\'s DID (docs/did-guard.md)');
  did
    .command('draft')
    .description('start a DID operation draft: the change applied to the head of the DID\'s audit log (read from the directory, verified here)')
    .requiredOption('--did <did>', 'the organisation\'s DID (the policy\'s repository)')
    .requiredOption('--directory <url>', 'the PLC directory, e.g. https://plc.directory')
    .option('--set-handle <handle>', 'the new handle (alsoKnownAs at://handle)')
    .option('--set-pds <url>', 'the new PDS endpoint (atproto_pds)')
    .option('--set-atproto-key <didkey>', 'the new #atproto verification method')
    .option('--out <file>', 'write the draft here')
    .action(async (flags) => setExit(await (await import('./commands/did.ts')).didDraft(flags, io)));
  did
    .command('cosign')
    .description('show the operation a DID draft asks you to approve, ask for confirmation (unless --yes), then add your co-signature')
    .argument('<draft>', 'DID operation draft JSON file, or -')
    .requiredOption('--key <file>', 'your member key file')
    .requiredOption('--issuer <did>', 'your did:plc')
    .option('--out <file>', 'write the co-signed draft here')
    .option('--yes', 'sign without asking (the operation is still printed)')
    .action(async (draft: string, flags) => setExit(await (await import('./commands/did.ts')).didCosign(draft, flags, io)));
  did
    .command('submit')
    .description('send a co-signed DID draft to the enclave (signPlcOp): signed with the guard key and submitted to the directory; prints the answer')
    .argument('<draft>', 'DID operation draft JSON file, or -')
    .requiredOption('--enclave <url>', 'enclave base URL')
    .option('--out <file>', 'write the answer here')
    .action(async (draft: string, flags) => setExit(await (await import('./commands/did.ts')).didSubmit(draft, flags, io)));
  did
    .command('log')
    .description('check the DID guard\'s public log (getGuardLog) against the enclave\'s identity: its repository, its guard key, the enclave key\'s signature; exit 0 valid, 1 invalid, 2 usage/IO')
    .requiredOption('--identity <url|file>', 'the enclave (URL) or its getIdentity answer (file)')
    .option('--log <file>', 'the getGuardLog answer (default: fetched from --identity URL)')
    .option('--json', 'print { valid, did, signedAt, entries, checks } or { valid, error, checks }')
    .action(async (flags) => setExit(await (await import('./commands/did.ts')).didLog(flags, io)));

  program
    .command('publish')
    .description('write a signed record (the signRecord answer from submit) into the organisation\'s repository on its PDS; prints its at:// URI and CID; exit 0 published, 1 refused, 2 usage/IO')
    .argument('<signed>', 'the signRecord answer (signed.json) or a signed record, or -')
    .requiredOption('--pds <url>', 'the organisation\'s PDS, e.g. https://pds.example.com')
    .requiredOption('--identifier <handle|did>', 'the organisation\'s handle or DID: the repository the record was signed for')
    .option('--app-password-file <file>', 'a file holding the app password (default: the ENCUMBER_APP_PASSWORD environment variable)')
    .option('--identity <url|file>', 'the enclave (URL) or its getIdentity answer (file): verify the record against its policy before publishing')
    .option('--json', 'print { uri, cid }')
    .action(async (file: string, flags: PublishFlags) => setExit(await (await import('./commands/publish.ts')).publish(file, flags, io)));

  return program;
}

export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  let code = EXIT_OK;
  // Every command that verifies or signs k256 does it on libsecp256k1 (help alone does not load it).
  if (commandName(argv) !== undefined) (await import('../crypto/k256-libsecp256k1.ts')).installLibsecp256k1();
  const serveModule = commandName(argv) === 'serve' ? await import('./commands/serve.ts') : undefined;
  const program = buildProgram(io, (c) => (code = c), serveModule);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version are successes; everything else is a usage error.
      return e.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    if (e instanceof UsageProblem) {
      io.err(`error: ${e.message}`);
      return EXIT_USAGE;
    }
    throw e;
  }
}
