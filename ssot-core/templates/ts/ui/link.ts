// next/link for code checked as NodeNext: TypeScript sees the CommonJS module object where the
// bundler hands over its default export (the component).
import NextLink from "next/link.js";

export const Link = NextLink as unknown as typeof NextLink.default;
