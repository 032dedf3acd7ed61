import { describe, expect, it } from "vitest";
import { Permission } from "../../../gen/mlpipe/auth/v1/auth_pb.js";
import { Stage } from "../../../gen/mlpipe/registry/v1/registry_pb.js";
import { mayMoveTo, maySetAliases, nothingAllowed, unrestricted } from "./model-permission.js";

describe("model permission", () => {
  it("lets EDIT move versions and set aliases, but not to Production when Production needs MANAGE", () => {
    const editor = { held: Permission.EDIT, production: Permission.MANAGE };
    expect(mayMoveTo(editor, Stage.STAGING)).toBe(true);
    expect(mayMoveTo(editor, Stage.PRODUCTION)).toBe(false);
    expect(maySetAliases(editor)).toBe(true);
    expect(mayMoveTo({ held: Permission.MANAGE, production: Permission.MANAGE }, Stage.PRODUCTION)).toBe(true);
  });

  it("follows a weaker Production permission and refuses READ, NONE and unknown levels", () => {
    expect(mayMoveTo({ held: Permission.EDIT, production: Permission.EDIT }, Stage.PRODUCTION)).toBe(true);
    const reader = { held: Permission.READ, production: Permission.MANAGE };
    expect(mayMoveTo(reader, Stage.ARCHIVED)).toBe(false);
    expect(maySetAliases(reader)).toBe(false);
    expect(maySetAliases({ held: Permission.UNSPECIFIED, production: Permission.READ })).toBe(false);
    expect(maySetAliases(nothingAllowed)).toBe(false);
    expect(mayMoveTo(unrestricted, Stage.PRODUCTION)).toBe(true);
  });
});
