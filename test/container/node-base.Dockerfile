# The stand-in for node:24-bookworm-slim when no image registry is reachable (test/container/image.test.ts):
# a Debian bookworm minbase root filesystem made by debootstrap and `docker import`ed as ROOTFS_IMAGE, plus Node
# and npm from the npm registry's own packages (node-linux-<arch>, which the `node` package installs, and npm),
# fetched with `npm pack` on the host into this build context and unpacked here by ADD.
ARG ROOTFS_IMAGE
FROM ${ROOTFS_IMAGE}
ADD node.tgz /opt/node-unpack/
ADD npm.tgz /opt/npm-unpack/
RUN mv /opt/node-unpack/package /opt/node && mv /opt/npm-unpack/package /opt/npm \
 && rmdir /opt/node-unpack /opt/npm-unpack \
 && ln -s /opt/node/bin/node /usr/local/bin/node \
 && printf '#!/bin/sh\nexec /usr/local/bin/node /opt/npm/bin/npm-cli.js "$@"\n' > /usr/local/bin/npm \
 && printf '#!/bin/sh\nexec /usr/local/bin/node /opt/npm/bin/npx-cli.js "$@"\n' > /usr/local/bin/npx \
 && chmod 0755 /usr/local/bin/npm /usr/local/bin/npx \
 && node --version && npm --version
CMD ["node"]
