// Certificates made with the openssl command line, as an operator would make them: an oracle
// independent of the project's own PKI code, for tests that stand up "someone else's" deployment.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface LeafOptions {
  eku?: "clientAuth" | "serverAuth";
  /** openssl ca -startdate/-enddate (YYYYMMDDHHMMSSZ); default: valid for 30 days from now. */
  start?: string;
  end?: string;
  san?: string[];
}

export class OpensslPki {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
    mkdirSync(join(dir, "db"), { recursive: true });
    writeFileSync(join(dir, "db", "index.txt"), "");
    writeFileSync(join(dir, "db", "serial"), "1000\n");
    writeFileSync(
      join(dir, "ca.cnf"),
      "[ca]\ndefault_ca=c\n[c]\ndatabase=db/index.txt\nserial=db/serial\nnew_certs_dir=db\ndefault_md=sha256\npolicy=p\ncopy_extensions=none\nunique_subject=no\n[p]\n",
    );
  }

  private ssl(...args: string[]): string {
    return execFileSync("openssl", args, { cwd: this.dir, stdio: ["ignore", "pipe", "pipe"] }).toString();
  }

  private key(name: string): void {
    this.ssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", `${name}.key`);
  }

  path(name: string, ext: "crt" | "key" | "crl" = "crt"): string {
    return join(this.dir, `${name}.${ext}`);
  }

  read(name: string, ext: "crt" | "key" | "crl" = "crt"): string {
    return readFileSync(this.path(name, ext), "utf8");
  }

  /** A self-signed root CA, valid 30 days unless `days` says otherwise; `subject` in openssl's /A=b/C=d form. */
  ca(name: string, subject: string, options: { days?: number } = {}): this {
    this.key(name);
    this.ssl("req", "-x509", "-new", "-key", `${name}.key`, "-out", `${name}.crt`, "-subj", subject, "-days", String(options.days ?? 30), "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=keyCertSign,cRLSign");
    return this;
  }

  private sign(name: string, issuer: string, ext: string, options: LeafOptions = {}): void {
    writeFileSync(join(this.dir, `${name}.ext`), ext);
    const dates = options.start ? ["-startdate", options.start, "-enddate", options.end!] : ["-days", "30"];
    this.ssl("ca", "-batch", "-config", "ca.cnf", "-cert", `${issuer}.crt`, "-keyfile", `${issuer}.key`, "-in", `${name}.csr`, "-out", `${name}.crt`, "-extfile", `${name}.ext`, "-notext", "-preserveDN", ...dates);
  }

  private request(name: string, subject: string): void {
    this.key(name);
    this.ssl("req", "-new", "-key", `${name}.key`, "-subj", subject, "-out", `${name}.csr`);
  }

  intermediate(name: string, subject: string, issuer: string): this {
    this.request(name, subject);
    this.sign(name, issuer, "basicConstraints=critical,CA:TRUE\nkeyUsage=keyCertSign,cRLSign\n");
    return this;
  }

  leaf(name: string, subject: string, issuer: string, options: LeafOptions = {}): this {
    this.request(name, subject);
    const san = options.san?.length ? `subjectAltName=${options.san.map((h) => `DNS:${h}`).join(",")}\n` : "";
    this.sign(name, issuer, `basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=${options.eku ?? "clientAuth"}\n${san}`, options);
    return this;
  }

  selfSigned(name: string, subject: string): this {
    this.key(name);
    this.ssl("req", "-x509", "-new", "-key", `${name}.key`, "-out", `${name}.crt`, "-subj", subject, "-days", "30");
    return this;
  }

  revoke(name: string, issuer: string): this {
    this.ssl("ca", "-config", "ca.cnf", "-cert", `${issuer}.crt`, "-keyfile", `${issuer}.key`, "-revoke", `${name}.crt`);
    return this;
  }

  /** A CRL of `issuer` (PEM, X509 CRL) listing what was revoked, valid for `days`. */
  crl(issuer: string, file: string, days = 7): string {
    this.ssl("ca", "-config", "ca.cnf", "-cert", `${issuer}.crt`, "-keyfile", `${issuer}.key`, "-gencrl", "-crldays", String(days), "-out", file);
    return join(this.dir, file);
  }

  /** The subject as `openssl x509 -nameopt RFC2253` prints it: what nginx's $ssl_client_s_dn holds. */
  rfc2253(name: string, which: "subject" | "issuer" = "subject"): string {
    return this.ssl("x509", "-in", `${name}.crt`, "-noout", `-${which}`, "-nameopt", "RFC2253").trim().replace(/^(subject|issuer)=/, "");
  }

  /** Leaf then the given intermediates, PEM. */
  chain(leaf: string, ...intermediates: string[]): string {
    return [leaf, ...intermediates].map((n) => this.read(n).trim()).join("\n") + "\n";
  }
}
