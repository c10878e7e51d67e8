# The nitro-enclave machine and what it selects (microvm, EIF loader, virtio-nsm,
# vhost-user-vsock); copied to configs/devices/x86_64-softmmu/nitro.mak for
# --with-devices-x86_64=nitro.
CONFIG_NITRO_ENCLAVE=y
