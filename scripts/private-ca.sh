#!/usr/bin/env bash
# Make a private CA and a certificate it signs for 127.0.0.1, in DIR:
# ca.pem (to trust, AWS_CA_BUNDLE), server.pem and server.key (for an https
# front). For the tests and the bench; valid two days.
set -euo pipefail
cd "$1"
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj "/CN=gdctl test CA" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj "/CN=127.0.0.1" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n' > ext
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 \
  -extfile ext 2>/dev/null
