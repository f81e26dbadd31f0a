import { type Static, Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { conflict, invalid, notFound } from "../../core/errors.ts";
import type { Attrs } from "../../ports/storage/org.ts";
import type { AdminDeps } from "./deps.ts";
import { ok } from "./envelope.ts";
import { presentCompany, presentDepartment, presentDict, presentLicense, presentRole } from "./presenters.ts";
import {
  COMPANY_ATTR_KEYS,
  CompanyBody,
  CompanyOut,
  CompanyQuery,
  CompanyUpdateBody,
  DeletedOut,
  DepartmentBody,
  DepartmentListOut,
  DepartmentOut,
  DepartmentUpdateBody,
  DictBody,
  DictOut,
  DictQuery,
  EmptyQuery,
  envelope,
  LicenseBody,
  LicenseOut,
  LicenseUpdateBody,
  OptionalCompanyQuery,
  OrgIdBody,
  RoleBody,
  RoleOut,
  RoleUpdateBody,
} from "./schemas.ts";

const tags = ["admin: organisation"];
const flag = (v: boolean | number | undefined) => (v === undefined ? undefined : v === true || v === 1);

/** The documented 001 extras of a company body (`rangeId` … `typeText`) that were given. */
function attrsOf(b: Partial<Static<typeof CompanyBody>>): Attrs {
  const attrs: Attrs = {};
  for (const k of COMPANY_ATTR_KEYS) {
    const v = b[k];
    if (v !== undefined) attrs[k] = k === "createUser" && v !== null ? Number(v) : v;
  }
  return attrs;
}

type OrgKind = "companies" | "departments" | "roles" | "licenses";

/** The organisation directory the enterprise surface presents: companies, departments, roles, licenses, dictionaries. */
export function orgRoutes(api: FastifyInstance, deps: AdminDeps): void {
  const { org, accounts } = deps;

  const userMustExist = async (id: string | number, field: string) => {
    if (!(await accounts.findUser(Number(id)))) throw invalid("bad_user", `${field}: unknown user`);
  };
  const companyMustExist = async (id: number) => {
    if (!(await org.company(id))) throw notFound("company_not_found", "company does not exist");
  };

  api.route<{ Body: Static<typeof CompanyBody> }>({
    method: "POST",
    url: "/org/companies",
    schema: { summary: "create a company", tags, body: CompanyBody, response: { 200: envelope(CompanyOut) } },
    handler: async (req) => {
      const b = req.body;
      if (b.pid && !(await org.company(Number(b.pid)))) throw invalid("bad_company", "pid: unknown parent company");
      if (b.createUser != null) await userMustExist(b.createUser, "createUser");
      const company = await org.createCompany({
        text: b.text,
        avatar: b.avatar,
        note: b.note,
        enable: flag(b.enable),
        licenseId: b.licenseId,
        code: b.code,
        pid: b.pid,
        level: b.level,
        url: b.url,
        attrs: attrsOf(b),
      });
      return ok(presentCompany(company));
    },
  });

  api.route<{ Querystring: Static<typeof EmptyQuery> }>({
    method: "GET",
    url: "/org/companies",
    schema: {
      summary: "list companies",
      tags,
      querystring: EmptyQuery,
      response: { 200: envelope(Type.Array(CompanyOut)) },
    },
    handler: async () => ok((await org.companies()).map(presentCompany)),
  });

  api.route<{ Body: Static<typeof DepartmentBody> }>({
    method: "POST",
    url: "/org/departments",
    schema: {
      summary: "create a department (root, or under parentId of the same company)",
      tags,
      body: DepartmentBody,
      response: { 200: envelope(DepartmentOut) },
    },
    handler: async (req) => {
      const { ownerId, ...b } = req.body;
      if (ownerId != null) await userMustExist(ownerId, "ownerId");
      const dept = await org.createDepartment({ ...b, ownerId: ownerId == null ? ownerId : Number(ownerId) });
      return ok(presentDepartment(dept));
    },
  });

  api.route<{ Querystring: Static<typeof CompanyQuery> }>({
    method: "GET",
    url: "/org/departments",
    schema: {
      summary: "a company's departments as a flat list (build the tree from parentId)",
      tags,
      querystring: CompanyQuery,
      response: { 200: envelope(Type.Array(DepartmentListOut)) },
    },
    handler: async (req) => {
      const { companyId } = req.query;
      await companyMustExist(companyId);
      const [depts, counts] = await Promise.all([org.departments(companyId), org.departmentUserCounts(companyId)]);
      const children = new Map<number, number>();
      for (const d of depts) if (d.parentId !== null) children.set(d.parentId, (children.get(d.parentId) ?? 0) + 1);
      return ok(
        depts.map((d) => ({
          ...presentDepartment(d),
          userCount: counts.get(d.id) ?? 0,
          childCount: children.get(d.id) ?? 0,
        })),
      );
    },
  });

  api.route<{ Body: Static<typeof RoleBody> }>({
    method: "POST",
    url: "/org/roles",
    schema: { summary: "create a role of a company", tags, body: RoleBody, response: { 200: envelope(RoleOut) } },
    handler: async (req) => {
      const { admin, ...b } = req.body;
      return ok(presentRole(await org.createRole({ ...b, admin: flag(admin) })));
    },
  });

  api.route<{ Querystring: Static<typeof OptionalCompanyQuery> }>({
    method: "GET",
    url: "/org/roles",
    schema: {
      summary: "list roles (of one company, or all)",
      tags,
      querystring: OptionalCompanyQuery,
      response: { 200: envelope(Type.Array(RoleOut)) },
    },
    handler: async (req) => {
      const { companyId } = req.query;
      if (companyId !== undefined) await companyMustExist(companyId);
      return ok((await org.roles(companyId ?? null)).map(presentRole));
    },
  });

  api.route<{ Body: Static<typeof LicenseBody> }>({
    method: "POST",
    url: "/org/licenses",
    schema: { summary: "create a license", tags, body: LicenseBody, response: { 200: envelope(LicenseOut) } },
    handler: async (req) => {
      const { text, maxlevel = 0, single = 0, userCount = 0 } = req.body;
      return ok(presentLicense(await org.createLicense({ text, maxlevel, single, userCount })));
    },
  });

  api.route<{ Querystring: Static<typeof EmptyQuery> }>({
    method: "GET",
    url: "/org/licenses",
    schema: {
      summary: "list licenses",
      tags,
      querystring: EmptyQuery,
      response: { 200: envelope(Type.Array(LicenseOut)) },
    },
    handler: async () => ok((await org.licenses()).map(presentLicense)),
  });

  api.route<{ Body: Static<typeof DictBody> }>({
    method: "POST",
    url: "/org/dict",
    schema: {
      summary: "add a dictionary entry (code unique within its type)",
      tags,
      body: DictBody,
      response: { 200: envelope(DictOut) },
    },
    handler: async (req) => {
      const { type, text, code, url = null } = req.body;
      // The (type, code) unique index is the final arbiter; this check gives the clear answer.
      if ((await org.dict(type)).some((e) => e.code === code))
        throw conflict("dict_exists", `dictionary ${type} already has code ${code}`);
      return ok(presentDict(await org.createDict({ type, text, code, url })));
    },
  });

  api.route<{ Querystring: Static<typeof DictQuery> }>({
    method: "GET",
    url: "/org/dict",
    schema: {
      summary: "entries of one dictionary",
      tags,
      querystring: DictQuery,
      response: { 200: envelope(Type.Array(DictOut)) },
    },
    handler: async (req) => ok((await org.dict(req.query.type)).map(presentDict)),
  });

  // --- edit and delete (docs/admin.md "Editing and deleting") ---------------------------------

  /** `POST /org/<kind>/delete {id}`: deleted only when nothing refers to it (409 otherwise). */
  const deleteRoute = (kind: OrgKind, what: string, del: (id: number) => Promise<void>) =>
    api.route<{ Body: Static<typeof OrgIdBody> }>({
      method: "POST",
      url: `/org/${kind}/delete`,
      schema: {
        summary: `delete a ${what} (refused with 409 while anything still refers to it)`,
        tags,
        body: OrgIdBody,
        response: { 200: envelope(DeletedOut) },
      },
      handler: async (req) => {
        await del(req.body.id);
        return ok({ id: req.body.id, deleted: true as const });
      },
    });

  api.route<{ Body: Static<typeof CompanyUpdateBody> }>({
    method: "POST",
    url: "/org/companies/update",
    schema: {
      summary: "change a company (only the fields given)",
      tags,
      body: CompanyUpdateBody,
      response: { 200: envelope(CompanyOut) },
    },
    handler: async (req) => {
      const { id, enable, createUser, ...b } = req.body;
      if (createUser != null) await userMustExist(createUser, "createUser");
      const attrs = attrsOf(req.body);
      const company = await org.updateCompany(id, {
        text: b.text,
        avatar: b.avatar,
        note: b.note,
        enable: flag(enable),
        licenseId: b.licenseId,
        code: b.code,
        pid: b.pid,
        level: b.level,
        url: b.url,
        attrs: Object.keys(attrs).length ? attrs : undefined,
      });
      return ok(presentCompany(company));
    },
  });
  deleteRoute("companies", "company (it must have no users, departments, roles or child companies)", (id) =>
    org.deleteCompany(id),
  );

  api.route<{ Body: Static<typeof DepartmentUpdateBody> }>({
    method: "POST",
    url: "/org/departments/update",
    schema: {
      summary: "change or move a department within its company (its subtree's levels follow)",
      tags,
      body: DepartmentUpdateBody,
      response: { 200: envelope(DepartmentOut) },
    },
    handler: async (req) => {
      const { id, ownerId, ...b } = req.body;
      if (ownerId != null) await userMustExist(ownerId, "ownerId");
      const dept = await org.updateDepartment(id, {
        ...b,
        ownerId: ownerId === undefined || ownerId === null ? ownerId : Number(ownerId),
      });
      return ok(presentDepartment(dept));
    },
  });
  deleteRoute("departments", "department (it must have no users and no sub-departments)", (id) =>
    org.deleteDepartment(id),
  );

  api.route<{ Body: Static<typeof RoleUpdateBody> }>({
    method: "POST",
    url: "/org/roles/update",
    schema: { summary: "change a role", tags, body: RoleUpdateBody, response: { 200: envelope(RoleOut) } },
    handler: async (req) => {
      const { id, admin, ...b } = req.body;
      return ok(presentRole(await org.updateRole(id, { ...b, admin: flag(admin) })));
    },
  });
  deleteRoute("roles", "role (no user may hold it)", (id) => org.deleteRole(id));

  api.route<{ Body: Static<typeof LicenseUpdateBody> }>({
    method: "POST",
    url: "/org/licenses/update",
    schema: { summary: "change a license", tags, body: LicenseUpdateBody, response: { 200: envelope(LicenseOut) } },
    handler: async (req) => {
      const { id, ...b } = req.body;
      return ok(presentLicense(await org.updateLicense(id, b)));
    },
  });
  deleteRoute("licenses", "license (no company may hold it)", (id) => org.deleteLicense(id));
}
