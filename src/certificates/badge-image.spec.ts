import { bakeBadgePng, readPngChunks, renderBadgePng } from './badge-image';

const openBadges = (png: Buffer) => readPngChunks(png).filter((c) => c.type === 'iTXt' && c.data.toString('latin1').startsWith('openbadges\0'));

describe('badge image', () => {
  it('draws the same bytes for the same hours and academy, other bytes for other hours', () => {
    const a = renderBadgePng({ cpdHours: 2, academyName: 'Peer Academy' });
    expect(renderBadgePng({ cpdHours: 2, academyName: 'Peer Academy' }).equals(a)).toBe(true);
    expect(renderBadgePng({ cpdHours: 2.5, academyName: 'Peer Academy' }).equals(a)).toBe(false);
    expect(readPngChunks(a).map((c) => c.type)).toEqual(['IHDR', 'IDAT', 'IEND']);
  });

  it('bakes one uncompressed openbadges iTXt chunk after IHDR, replacing one already there', () => {
    const image = renderBadgePng({ cpdHours: 1, academyName: 'Peer Academy' });
    const once = bakeBadgePng(image, 'https://academy.example/badges/assertions/AAAA-BBBB-CCCC');
    expect(readPngChunks(once).map((c) => c.type)).toEqual(['IHDR', 'iTXt', 'IDAT', 'IEND']);
    expect(openBadges(once)[0].data).toEqual(Buffer.from('openbadges\0\0\0\0\0https://academy.example/badges/assertions/AAAA-BBBB-CCCC', 'latin1'));
    const twice = bakeBadgePng(once, 'https://academy.example/badges/assertions/DDDD-EEEE-FFFF');
    expect(openBadges(twice)).toHaveLength(1);
    expect(openBadges(twice)[0].data.toString('utf8')).toContain('DDDD-EEEE-FFFF');
    expect(image.equals(renderBadgePng({ cpdHours: 1, academyName: 'Peer Academy' }))).toBe(true); // the cached image is not changed
  });

  it('refuses what is not a PNG and a chunk whose CRC is wrong', () => {
    expect(() => readPngChunks(Buffer.from('GIF89a'))).toThrow('Not a PNG');
    const broken = Buffer.from(renderBadgePng({ cpdHours: 3, academyName: 'Peer Academy' }));
    broken[20] ^= 0xff;
    expect(() => readPngChunks(broken)).toThrow('Bad CRC in the IHDR chunk');
  });
});
