import { checkAccessibility, launchBrowser } from '/work/main/test/browser/support/browser';
it('axe catches violations and is timed', async () => {
  const browser = await launchBrowser();
  const page = await browser.newPage();
  await page.setContent('<html><body><img src="x.png"><a href="#"></a></body></html>');
  let t = Date.now();
  await expect(checkAccessibility(page, 'sanity')).rejects.toThrow(/image-alt/);
  console.log('axe ms', Date.now() - t);
  await checkAccessibility(page, 'sanity').catch((e) => console.log(e.message));
  await browser.close();
});
