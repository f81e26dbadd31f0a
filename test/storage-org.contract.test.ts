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
});
