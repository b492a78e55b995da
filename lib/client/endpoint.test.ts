import { afterEach, describe, expect, it, vi } from "vitest";
import { buildUrl, parseEndpoint, redactEndpoint, toWebSocketUrl } from "./endpoint.js";

const SECRET = "s3cr3t-T0ken-value";

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("expected a throw");
}

afterEach(() => {
  vi.unstubAllEnvs();
});

describe("parseEndpoint", () => {
  it("reads namespace and token from the URL userinfo", () => {
    const e = parseEndpoint(`http://acme:${SECRET}@127.0.0.1:6420`);
    expect(e.baseUrl).toBe("http://127.0.0.1:6420");
    expect(e.namespace).toBe("acme");
    expect(e.token).toBe(SECRET);
  });

  it("percent-decodes namespace and token", () => {
    const e = parseEndpoint("https://my%20ns:a%2Fb%40c%3Ad@example.com:8443/");
    expect(e.namespace).toBe("my ns");
    expect(e.token).toBe("a/b@c:d");
    expect(e.baseUrl).toBe("https://example.com:8443");
  });

  it("keeps a base path and drops trailing slashes", () => {
    expect(parseEndpoint("http://ns:t@host:1/enclave/api//").baseUrl).toBe("http://host:1/enclave/api");
  });

  it("defaults the namespace to `default`", () => {
    expect(parseEndpoint(`http://:${SECRET}@host:1`).namespace).toBe("default");
    expect(parseEndpoint("http://host:1").namespace).toBe("default");
    expect(parseEndpoint({ endpoint: "http://host:1", token: "x" }).namespace).toBe("default");
  });

  it("accepts a namespace without a token", () => {
    const e = parseEndpoint("http://acme@host:1");
    expect(e.namespace).toBe("acme");
    expect(e.token).toBeUndefined();
  });

  it("takes namespace and token as options", () => {
    const e = parseEndpoint({ endpoint: "http://host:1", namespace: "acme", token: SECRET });
    expect(e).toMatchObject({ baseUrl: "http://host:1", namespace: "acme" });
    expect(e.token).toBe(SECRET);
  });

  it("refuses a namespace given twice, even if equal", () => {
    const msg = messageOf(() =>
      parseEndpoint({ endpoint: `http://acme:${SECRET}@host:1`, namespace: "acme" }),
    );
    expect(msg).toMatch(/namespace is given twice/);
    expect(msg).not.toContain(SECRET);
  });

  it("refuses a token given twice without showing it", () => {
    const msg = messageOf(() => parseEndpoint({ endpoint: `http://acme:${SECRET}@host:1`, token: SECRET }));
    expect(msg).toMatch(/token is given twice/);
    expect(msg).not.toContain(SECRET);
  });

  it("reads ENCLAVE_ENDPOINT when no endpoint is given", () => {
    vi.stubEnv("ENCLAVE_ENDPOINT", `http://envns:${SECRET}@10.0.0.1:6420`);
    const e = parseEndpoint();
    expect(e).toMatchObject({ baseUrl: "http://10.0.0.1:6420", namespace: "envns" });
    expect(e.token).toBe(SECRET);
    expect(parseEndpoint({}).namespace).toBe("envns");
  });

  it("refuses a token in both ENCLAVE_ENDPOINT and options", () => {
    vi.stubEnv("ENCLAVE_ENDPOINT", `http://envns:${SECRET}@10.0.0.1:6420`);
    const msg = messageOf(() => parseEndpoint({ token: "other" }));
    expect(msg).toMatch(/token is given twice: in the ENCLAVE_ENDPOINT URL/);
    expect(msg).not.toContain(SECRET);
  });

  it("an explicit endpoint wins over ENCLAVE_ENDPOINT", () => {
    vi.stubEnv("ENCLAVE_ENDPOINT", `http://envns:${SECRET}@10.0.0.1:6420`);
    expect(parseEndpoint("http://a:b@host:2").namespace).toBe("a");
  });

  it("explains a missing endpoint", () => {
    vi.stubEnv("ENCLAVE_ENDPOINT", "");
    expect(messageOf(() => parseEndpoint())).toMatch(/no endpoint.*ENCLAVE_ENDPOINT/);
  });

  it("never shows the token of an invalid endpoint", () => {
    for (const bad of [
      `http://ns:${SECRET}@`,
      `http://ns:${SECRET}@host:99999`,
      `ftp://ns:${SECRET}@host:1`,
      `http://ns:${SECRET}@host:1/?namespace=x`,
      `http://ns:${SECRET}@host:1/#frag`,
      `ns:${SECRET}@host:1`,
    ]) {
      const msg = messageOf(() => parseEndpoint(bad));
      expect(msg, bad).toMatch(/endpoint/);
      expect(msg, bad).not.toContain(SECRET);
    }
  });

  it("reports bad percent-encoding without echoing it", () => {
    const msg = messageOf(() => parseEndpoint("http://ns:ab%zzcd@host:1"));
    expect(msg).toMatch(/token in the URL is not valid percent-encoding/);
    expect(msg).not.toContain("ab%zzcd");
  });

  it("refuses a token that cannot travel in a header", () => {
    expect(() => parseEndpoint({ endpoint: "http://host:1", token: "has space" })).toThrow(/printable ASCII/);
  });

  it("does not expose the token when logged or serialized", () => {
    const e = parseEndpoint(`http://acme:${SECRET}@host:1`);
    expect(JSON.stringify(e)).not.toContain(SECRET);
    expect(Object.keys(e)).toEqual(["baseUrl", "namespace"]);
  });
});

describe("redactEndpoint", () => {
  it("hides the token and keeps the rest", () => {
    expect(redactEndpoint(`http://ns:${SECRET}@host:1/x`)).toBe("http://ns:***@host:1/x");
    expect(redactEndpoint("http://ns@host:1")).toBe("http://ns@host:1");
    expect(redactEndpoint("http://host:1")).toBe("http://host:1");
  });
});

describe("buildUrl", () => {
  const e = parseEndpoint(`http://my%20ns:${SECRET}@host:1/base`);

  it("puts the namespace first and repeats array parameters", () => {
    expect(buildUrl(e, "/actors", { name: "chat", key: ["eu", "4 2"] })).toBe(
      "http://host:1/base/actors?namespace=my+ns&name=chat&key=eu&key=4+2",
    );
  });

  it("keeps the caller's own query byte for byte, after the namespace", () => {
    expect(buildUrl(e, "/gateway/a/request/x?q=a%2Bb&r=1#frag")).toBe(
      "http://host:1/base/gateway/a/request/x?namespace=my+ns&q=a%2Bb&r=1",
    );
  });

  it("never carries credentials", () => {
    const url = buildUrl(e, "/actors");
    expect(url).not.toContain(SECRET);
    expect(new URL(url).username).toBe("");
  });

  it("maps http to ws", () => {
    expect(toWebSocketUrl("http://h:1/x?a=b")).toBe("ws://h:1/x?a=b");
    expect(toWebSocketUrl("https://h/x")).toBe("wss://h/x");
  });
});
