#!/usr/bin/env node
// Makes sure Debian's nginx is at /usr/sbin/nginx for the TLS tests (test/server/tls.test.ts), which put a
// TLS gRPC front (HTTP/2, grpc_pass, client-certificate checks) before a dev server. Run by
// `npm test`, beside scripts/chromium.mjs. Does nothing when it is there; otherwise installs the
// `nginx` package (in bookworm it carries the binary, built with the ssl, http_v2 and grpc modules;
// nginx-light is only nginx plus an echo module). Its service is never started: the tests run
// nginx from their own config, and a system nginx on port 80 is not ours to start.
import { ensureDebianPackage } from './debian-package.mjs';

ensureDebianPackage({
  name: 'nginx',
  binary: '/usr/sbin/nginx',
  pkg: 'nginx',
  hint: 'install nginx (with ssl, http_v2 and grpc) there by hand.',
  noServices: true,
});
