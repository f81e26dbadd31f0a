import assert from "node:assert/strict";
import { test } from "node:test";
import { forEachStorage, newUser } from "./helpers/storage.ts";

/** Contract of the organisation directory repository (src/ports/storage/org.ts). */
forEachStorage("org", (ctx) => {
  test("org: companies, department tree, roles, licenses, dict (sex seeded), per-department counts", async () => {
    const { storage } = ctx;
    const lic = await storage.org.createLicense({ text: "集团用户", maxlevel: 5, single: 20, userCount: 20 });
    const co = await storage.org.createCompany({
      text: "江苏农垦",
      avatar: "",
      note: "n",
      enable: true,
      licenseId: lic.id,
      code: "1010",
      pid: "26",
      level: 1,
      url: "",
      attrs: { rangeId: 19, regionText: "文山州" },
      createdAt: 1,
    });
    assert.deepEqual((await storage.org.company(co.id))?.attrs, { rangeId: 19, regionText: "文山州" });
    const root = await storage.org.createDepartment({
      companyId: co.id,
      parentId: null,
      text: "总部",
      note: "",
      code: "1",
      ownerId: null,
      level: 1,
      createdAt: 1,
    });
    const child = await storage.org.createDepartment({
      companyId: co.id,
      parentId: root.id,
      text: "研发",
      note: "",
      code: "2",
      ownerId: null,
      level: 2,
      createdAt: 1,
    });
    assert.equal((await storage.org.department(child.id))?.parentId, root.id);
    assert.deepEqual(
      (await storage.org.departments(co.id)).map((d) => d.id),
      [root.id, child.id],
    );
    const role = await storage.org.createRole({ companyId: co.id, text: "体验用户", admin: false, note: "" });
    assert.equal((await storage.org.role(role.id))?.text, "体验用户");
    assert.equal((await storage.org.roles(co.id)).length, 1);
    assert.equal((await storage.org.license(lic.id))?.userCount, 20);
    assert.deepEqual(
      (await storage.org.dict("sex")).map((e) => [e.code, e.text]),
      [
        ["0", "未知"],
        ["1", "男"],
        ["2", "女"],
      ],
    );
    await storage.users.create(newUser({ username: "d1", companyId: co.id, deptId: child.id }));
    await storage.users.create(newUser({ username: "d2", companyId: co.id, deptId: child.id }));
    assert.equal((await storage.org.departmentUserCounts(co.id)).get(child.id), 2);
  });

  test("org: updates change only what is given; deletes are refused while anything refers to the row", async () => {
    const { storage } = ctx;
    const org = storage.org;
    const lic = await org.createLicense({ text: "L", maxlevel: 0, single: 0, userCount: 0 });
    const base = { avatar: "", note: "", enable: true, code: "", pid: "", level: 1, url: "", createdAt: 1 };
    const co = await org.createCompany({ ...base, text: "C", licenseId: lic.id, attrs: { rangeId: 1 } });
    const sub = await org.createCompany({ ...base, text: "S", licenseId: null, pid: String(co.id), attrs: {} });
    const dept = { note: "", code: "", ownerId: null, createdAt: 1 };
    const root = await org.createDepartment({ ...dept, companyId: co.id, parentId: null, text: "R", level: 1 });
    const kid = await org.createDepartment({ ...dept, companyId: co.id, parentId: root.id, text: "K", level: 2 });
    const role = await org.createRole({ companyId: co.id, text: "r", admin: false, note: "" });

    assert.deepEqual(await org.updateCompany(co.id, { text: "C2", enable: false, attrs: { rangeId: 2 } }), {
      ...co,
      text: "C2",
      enable: false,
      attrs: { rangeId: 2 },
    });
    assert.deepEqual(await org.updateCompany(co.id, {}), { ...co, text: "C2", enable: false, attrs: { rangeId: 2 } });
    assert.equal(await org.updateCompany(999_999, { text: "x" }), null);
    // a move with its subtree's levels, in one transaction
    const other = await org.createDepartment({ ...dept, companyId: co.id, parentId: null, text: "O", level: 1 });
    const movedRoot = await org.updateDepartment(root.id, { parentId: other.id, level: 2, text: "R2" }, [[kid.id, 3]]);
    assert.deepEqual(movedRoot, { ...root, parentId: other.id, level: 2, text: "R2" });
    assert.equal((await org.department(kid.id))?.level, 3);
    assert.equal(await org.updateDepartment(999_999, { text: "x" }, []), null);
    assert.deepEqual(await org.updateRole(role.id, { admin: true }), { ...role, admin: true });
    assert.equal(await org.updateRole(999_999, { admin: true }), null);
    assert.deepEqual(await org.updateLicense(lic.id, { userCount: 9 }), { ...lic, userCount: 9 });
    assert.equal(await org.updateLicense(999_999, { userCount: 9 }), null);

    const u = await storage.users.create(
      newUser({ username: "o1", companyId: co.id, deptId: kid.id, roleId: role.id }),
    );
    const none = { users: 0, departments: 0, roles: 0, companies: 0 };
    assert.deepEqual(await org.deleteLicense(lic.id), { deleted: false, refs: { ...none, companies: 1 } });
    assert.deepEqual(await org.deleteCompany(co.id), {
      deleted: false,
      refs: { users: 1, departments: 3, roles: 1, companies: 1 },
    });
    assert.deepEqual(await org.deleteDepartment(other.id), { deleted: false, refs: { ...none, departments: 1 } });
    assert.deepEqual(await org.deleteDepartment(kid.id), { deleted: false, refs: { ...none, users: 1 } });
    assert.deepEqual(await org.deleteRole(role.id), { deleted: false, refs: { ...none, users: 1 } });
    assert.deepEqual(await org.deleteRole(999_999), { deleted: false, missing: true });
    assert.ok(await org.department(kid.id), "a refused delete removes nothing");

    await storage.users.update(u.id, { companyId: null, deptId: null, roleId: null });
    for (const id of [kid.id, root.id, other.id]) assert.deepEqual(await org.deleteDepartment(id), { deleted: true });
    assert.deepEqual(await org.deleteRole(role.id), { deleted: true });
    assert.deepEqual(await org.deleteCompany(co.id), { deleted: false, refs: { ...none, companies: 1 } });
    await org.updateCompany(sub.id, { pid: "" });
    assert.deepEqual(await org.deleteCompany(co.id), { deleted: true });
    assert.equal(await org.company(co.id), null);
    assert.deepEqual(await org.deleteLicense(lic.id), { deleted: true });
    assert.equal(await org.license(lic.id), null);
    assert.deepEqual(await org.deleteCompany(co.id), { deleted: false, missing: true });
  });
});
