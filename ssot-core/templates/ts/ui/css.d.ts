// The stylesheet the root layout imports (Next.js bundles it).
declare module "*.css";
