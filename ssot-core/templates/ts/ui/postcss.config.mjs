// Tailwind CSS 4 for the admin UI.
export default {
  plugins: { "@tailwindcss/postcss": {} },
};
