import type { Product } from './stores.ts';

/** The shop's catalogue: the products table is made to match it at every start. */

export const catalogue: readonly Product[] = [
  { id: 'ember-mug', name: 'Ember Mug', description: 'Stoneware mug with a speckled glaze that keeps coffee warm a little longer.', priceCents: 1800, image: '/products/ember-mug.svg' },
  { id: 'linen-apron', name: 'Linen Apron', description: 'Washed linen apron with deep pockets and adjustable straps.', priceCents: 3400, image: '/products/linen-apron.svg' },
  { id: 'oak-board', name: 'Oak Cutting Board', description: 'End-grain oak board, oiled by hand, with a juice groove.', priceCents: 5200, image: '/products/oak-board.svg' },
  { id: 'pour-over', name: 'Pour-Over Set', description: 'Glass dripper, carafe and fifty paper filters for slow mornings.', priceCents: 4200, image: '/products/pour-over.svg' },
  { id: 'tea-tin', name: 'Sencha Tea Tin', description: 'Eighty grams of first-flush Japanese green tea in a resealable tin.', priceCents: 1500, image: '/products/tea-tin.svg' },
  { id: 'wool-throw', name: 'Wool Throw', description: 'Lambswool throw in a herringbone weave, 130 × 180 cm.', priceCents: 8900, image: '/products/wool-throw.svg' },
  { id: 'desk-lamp', name: 'Brass Desk Lamp', description: 'Adjustable brass lamp with a warm 2700 K bulb included.', priceCents: 11900, image: '/products/desk-lamp.svg' },
  { id: 'notebook', name: 'Dot-Grid Notebook', description: 'A5 notebook, 192 numbered pages of 100 g/m² paper, lay-flat binding.', priceCents: 1900, image: '/products/notebook.svg' },
  { id: 'fountain-pen', name: 'Fountain Pen', description: 'Steel-nib fountain pen with a converter and a bottle of blue ink.', priceCents: 4600, image: '/products/fountain-pen.svg' },
  { id: 'plant-pot', name: 'Terracotta Pot', description: 'Unglazed terracotta pot with saucer, 15 cm, for happy roots.', priceCents: 1200, image: '/products/plant-pot.svg' },
  { id: 'candle', name: 'Cedar Candle', description: 'Soy wax candle with cedar and vetiver, about 45 hours of burn.', priceCents: 2400, image: '/products/candle.svg' },
  { id: 'tote-bag', name: 'Canvas Tote', description: 'Heavy cotton canvas tote with an inside pocket and long handles.', priceCents: 2200, image: '/products/tote-bag.svg' },
];
