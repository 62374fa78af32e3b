// Baseline: bare Koa 3 answering a small JSON body (the ceiling for any Koa endpoint).
import Koa from 'koa';

const app = new Koa();
app.use((ctx) => {
  ctx.body = { active: false };
});
app.listen(Number(process.env.PORT), '127.0.0.1', () => console.log('baseline listening'));
