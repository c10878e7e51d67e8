{
  description = "encumber: the reproducible enclave image (bundle, initramfs, EIF), the same build as `npm run build:image`";

  # nixos-24.11 as of 2025-06-30; flake.lock pins the same revision by its narHash.
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/50ab793786d9de88ee30ec4e4c24fb4236fc2674";

  # Use from the repository root (the flake reads the whole checkout through `../.`, so it must be
  # fetched as the git repository with dir=nix, which is what a local path inside the checkout gives):
  #   nix build ./nix#image        # = build/out of `npm run build:image`
  #   nix build ./nix#eif          # encumber.eif + manifest.json
  #   nix flake check ./nix        # bundle = image's bundle; PCRs = attestation/measurements.json
  outputs = { self, nixpkgs }:
    let
      system = "x86_64-linux";
      pkgs = nixpkgs.legacyPackages.${system};
      build = import ./image.nix { inherit pkgs; root = ../.; };
    in
    {
      packages.${system} = {
        inherit (build) nodeModules inputCache bundle image initramfs eif;
        default = build.image;
      };

      checks.${system} = build.checks;

      devShells.${system}.default = pkgs.mkShell {
        packages = [ pkgs.nodejs_20 pkgs.dpkg pkgs.qemu_kvm pkgs.jq ];
      };
    };
}
