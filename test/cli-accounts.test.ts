import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { DEMO_COMPANY, DEMO_PASSWORD, seedDemo } from "../src/core/demo-seed.ts";
import { AppError } from "../src/core/errors.ts";
import { type App, buildApp } from "../src/main.ts";
import { createBackend, type TestBackend, testConfig } from "./helpers/backend.ts";

const run = promisify(execFile);
const BIN = join(import.meta.dirname, "..", "bin", "parley.mjs");

/** The CLI's environment: nothing inherited from PARLEY_*, this backend's storage, fast scrypt. */
function cliEnv(backend: TestBackend): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("PARLEY_")) env[k] = v;
  env.PARLEY_DATA_DIR = backend.dataDir;
  if (backend.databaseUrl) env.PARLEY_DATABASE_URL = backend.databaseUrl;
  env.PARLEY_ACCOUNTS_SCRYPT_LOG_N = "10";
  env.PARLEY_LOG_LEVEL = "warn";
  return env;
}

type Failure = { code?: number; stderr?: string; stdout?: string };
const fails = (p: Promise<unknown>, exitCode: number, stderr: RegExp) =>
  assert.rejects(p, (e: Failure) => {
    assert.equal(e.code, exitCode, e.stderr);
    assert.match(e.stderr ?? "", stderr);
    return true;
  });
const field = (out: string, name: string) => new RegExp(`^${name}: (.+)$`, "m").exec(out)?.[1];

/** Opens the data the CLI wrote the way the server does (no listening). */
async function openApp(backend: TestBackend): Promise<App> {
  return buildApp(testConfig(backend));
}

describe("parley user create / seed --demo", () => {
  let backend: TestBackend;
  let cli: (...args: string[]) => Promise<{ stdout: string; stderr: string }>;

  before(async () => {
    backend = await createBackend();
    const env = cliEnv(backend);
    cli = (...args) => run(process.execPath, [BIN, ...args], { env });
  });
  after(() => backend.cleanup());

  test("--help lists the account commands and their options", async () => {
    const { stdout } = await cli("--help");
    for (const s of ["user create", "--mobile=", "--username=", "--password=", "--nickname=", "--admin", "seed --demo"])
      assert.ok(stdout.includes(s), `${s} listed`);
  });

  test("user create: prints id and uid; the user logs in through the core", async () => {
    const { stdout } = await cli(
      "user",
      "create",
      "--username=ops",
      "--mobile",
      "13700000001",
      "--password=ops-secret",
      "--nickname=运维",
      "--admin",
    );
    const id = Number(field(stdout, "id"));
    const uid = field(stdout, "uid");
    assert.ok(Number.isInteger(id) && id > 0, stdout);
    assert.ok(uid);
    assert.doesNotMatch(stdout, /password:/, "a given password is not echoed");

    const { stdout: gen } = await cli("user", "create", "--mobile=13700000002");
    const generated = /^password: (\S+) +\(generated/m.exec(gen)?.[1];
    assert.ok(generated && generated.length >= 12, gen);
    // no admin token was generated behind the operator's back by these commands
    assert.equal(existsSync(join(backend.dataDir, "admin-token.sha256")), false);

    const app = await openApp(backend);
    try {
      const u = await app.storage.users.findById(id);
      assert.equal(u?.uid, uid);
      assert.equal(u?.username, "ops");
      assert.equal(u?.mobile, "13700000001");
      assert.equal(u?.nickname, "运维");
      assert.equal(u?.isAdmin, true);
      const byName = await app.accounts.passwordLogin({ username: "ops" }, "ops-secret", { device: "web" });
      assert.equal(byName.user.id, id);
      const byMobile = await app.accounts.passwordLogin({ mobile: "13700000002" }, generated, { device: "web" });
      assert.equal(byMobile.user.isAdmin, false);
      assert.equal(byMobile.user.username, null);
    } finally {
      await app.close();
    }
  });

  test("user create: mistakes are refused with a message and a non-zero exit", async () => {
    await fails(cli("user", "create", "--username=ops", "--password=another1"), 1, /already exists/);
    await fails(cli("user", "create", "--password=secret12"), 2, /--mobile=… or --username=…/);
    await fails(cli("user", "create", "--username=x1", "--password=short"), 1, /password must be 6 to 128/);
    await fails(cli("user", "create", "--mobile=12345", "--password=secret12"), 1, /mobile must be 11 digits/);
    await fails(cli("user", "create", "--username=13700000009", "--password=secret12"), 2, /not be a mobile/);
    await fails(cli("user", "create", "--username=x1", "--bogus=1"), 2, /unknown option --bogus/);
    await fails(cli("user", "create", "--username"), 2, /--username needs a value/);
    await fails(cli("user", "delete", "--username=x1"), 2, /unknown user action delete/);
    await fails(cli("seed"), 2, /seed needs --demo/);
  });

  test("seed --demo creates the demo organisation once; a second run changes nothing", async () => {
    const first = await cli("seed", "--demo");
    assert.match(first.stdout, /Demo data created/);
    assert.match(first.stdout, /DEMO ONLY/);
    for (const name of [
      "admin",
      "alice",
      "bob",
      "carol",
      "dave",
      "13800000001",
      DEMO_PASSWORD,
      "/user/pwdLogin",
      "/auth/login",
    ])
      assert.ok(first.stdout.includes(name), `${name} printed`);
    const second = await cli("seed", "--demo");
    assert.match(second.stdout, /already present.*nothing changed/);

    const app = await openApp(backend);
    try {
      const companies = (await app.storage.org.companies()).filter((c) => c.text === DEMO_COMPANY);
      assert.equal(companies.length, 1);
      const company = companies[0];
      assert.ok(company.licenseId && (await app.storage.org.license(company.licenseId)));
      const depts = await app.storage.org.departments(company.id);
      const hq = depts.find((d) => d.text === "总部");
      assert.equal(hq?.parentId, null);
      assert.deepEqual(
        depts.filter((d) => d.parentId === hq?.id).map((d) => d.text),
        ["研发部", "市场部"],
      );
      const roles = await app.storage.org.roles(company.id);
      assert.deepEqual(
        roles.map((r) => [r.text, r.admin]),
        [
          ["管理员", true],
          ["员工", false],
        ],
      );
      const { list } = await app.storage.users.list("", 0, 100);
      const demo = list.filter((u) => u.companyId === company.id);
      assert.equal(demo.length, 5);
      assert.deepEqual(
        demo.filter((u) => u.isAdmin).map((u) => u.username),
        ["admin"],
      );
      for (const u of demo) {
        assert.ok(u.username && u.mobile, "every demo user has a username and a mobile");
        assert.ok(depts.some((d) => d.id === u.deptId));
        assert.ok(roles.some((r) => r.id === u.roleId));
      }
      // enterprise logs in by account (username), chat33 by mobile
      const alice = await app.accounts.passwordLogin({ username: "alice" }, DEMO_PASSWORD, { device: "pc" });
      assert.equal(alice.user.nickname, "张丽");
      // the printed ids are the stored ones: in the table, and on the line the README's first message uses
      for (const u of demo) assert.match(first.stdout, new RegExp(`^ +${u.id}  ${u.username} +${u.mobile} `, "m"));
      const bobId = demo.find((u) => u.username === "bob")?.id;
      assert.match(
        first.stdout,
        new RegExp(`^User ids for the messaging calls: alice = ${alice.user.id}, bob = ${bobId}$`, "m"),
      );
      const bob = await app.accounts.passwordLogin({ mobile: "13800000002" }, DEMO_PASSWORD, { device: "web" });
      assert.equal(bob.user.username, "bob");
      assert.equal((await app.accounts.authenticate(bob.token)).user.id, bob.user.id);
    } finally {
      await app.close();
    }
  });

  test("seedDemo refuses, writing nothing, when a demo account is already taken", async () => {
    const other = await createBackend();
    const app = await buildApp(testConfig(other));
    try {
      const carol = await app.accounts.createUser({ username: "carol", password: "secret12" });
      await assert.rejects(seedDemo(app), (e: unknown) => e instanceof AppError && e.code === "conflict");
      assert.deepEqual(await app.storage.org.companies(), []);
      assert.deepEqual(await app.storage.org.licenses(), []);
      assert.equal((await app.storage.users.list("", 0, 100)).total, 1);
      // once the name is free the same function seeds, and reports what it created
      await app.storage.users.update(carol.id, { username: "carol2" });
      const result = await seedDemo(app);
      assert.equal(result.created, true);
      assert.equal(result.created && result.users.length, 5);
      assert.equal((await seedDemo(app)).created, false);
    } finally {
      await app.close();
      await other.cleanup();
    }
  });
});
