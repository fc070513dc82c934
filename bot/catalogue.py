"""The sample shop's catalogue: the data `bot.seed` loads (32 products, 5 categories)."""

from __future__ import annotations

from typing import Any

CATEGORIES = [
    ("outerwear", "外套", "Outerwear"),
    ("tops", "上衣", "Tops"),
    ("bottoms", "裤装", "Trousers & skirts"),
    ("shoes", "鞋靴", "Shoes"),
    ("bags", "箱包配饰", "Bags & accessories"),
]

ADULT_CHART = [
    {"size": "S", "min_kg": 40, "max_kg": 50},
    {"size": "M", "min_kg": 50, "max_kg": 60},
    {"size": "L", "min_kg": 60, "max_kg": 70},
    {"size": "XL", "min_kg": 70, "max_kg": 80},
    {"size": "XXL", "min_kg": 80, "max_kg": 90},
]
LETTER_SIZES = ["S", "M", "L", "XL", "XXL"]
SHOE_SIZES = ["36", "37", "38", "39", "40", "41", "42", "43", "44"]

C = {  # colour names (zh, en)
    "black": ("黑色", "black"),
    "white": ("白色", "white"),
    "grey": ("灰色", "grey"),
    "navy": ("藏青色", "navy"),
    "beige": ("米色", "beige"),
    "red": ("红色", "red"),
    "pink": ("粉色", "pink"),
    "blue": ("蓝色", "blue"),
    "green": ("军绿色", "army green"),
    "khaki": ("卡其色", "khaki"),
    "brown": ("棕色", "brown"),
}

WASH_COLD_ZH = "30°C 以下冷水手洗或洗衣机轻柔档，不可漂白，反面平铺晾干。"
WASH_COLD_EN = "Hand or gentle machine wash below 30°C, no bleach, dry flat inside out."
DOWN_CARE_ZH = "建议干洗；如需水洗请用中性洗涤剂手洗，不可拧干，晾干后拍打恢复蓬松。"
DOWN_CARE_EN = (
    "Dry clean recommended; otherwise hand wash with mild detergent, do not wring, "
    "pat it back into shape when dry."
)
LEATHER_CARE_ZH = "避免长时间浸水，用软布擦拭，定期上皮革护理油，阴凉处存放。"
LEATHER_CARE_EN = "Keep out of water, wipe with a soft cloth, condition regularly, store cool and dry."
SHOE_CARE_ZH = "用软毛刷清理表面灰尘，不可机洗，自然风干，避免暴晒。"
SHOE_CARE_EN = "Brush off dust with a soft brush, no machine washing, air dry out of direct sun."


def _p(
    code: str,
    zh: str,
    en: str,
    cat: str,
    price: str,
    material: tuple[str, str],
    care: tuple[str, str],
    points: tuple[str, str],
    aliases: list[str],
    colors: list[str],
    sizes: list[str],
    chart: list[dict] | None = None,
    special: bool = False,
    in_production: bool = True,
) -> dict[str, Any]:
    return {
        "code": code,
        "name_zh": zh,
        "name_en": en,
        "category_code": cat,
        "price": price,
        "material_zh": material[0] or None,
        "material_en": material[1] or None,
        "care_zh": care[0] or None,
        "care_en": care[1] or None,
        "selling_points_zh": points[0] or None,
        "selling_points_en": points[1] or None,
        "aliases": aliases,
        "colors": colors,
        "sizes": sizes,
        "size_chart": chart or [],
        "special_price": special,
        "in_production": in_production,
    }


WOOL = ("80% 羊毛，20% 锦纶", "80% wool, 20% nylon")
COTTON = ("100% 棉", "100% cotton")
DOWN = ("面料 100% 锦纶，填充 90% 白鸭绒", "shell 100% nylon, filling 90% white duck down")
DENIM = ("98% 棉，2% 氨纶", "98% cotton, 2% elastane")
COLD = (WASH_COLD_ZH, WASH_COLD_EN)

PRODUCTS: list[dict[str, Any]] = [
    # outerwear
    _p("P001", "轻薄羽绒服", "Light down jacket", "outerwear", "399.00", DOWN, (DOWN_CARE_ZH, DOWN_CARE_EN),
       ("仅 280 克，可收纳进随附小袋，零下 5°C 也暖和。", "Only 280 g, packs into its own pouch, warm down to -5°C."),
       ["羽绒服", "轻羽绒", "down jacket", "puffer", "puffer jacket"], ["black", "navy", "beige"], LETTER_SIZES, ADULT_CHART),
    _p("P002", "加厚长款羽绒服", "Long padded down coat", "outerwear", "899.00", DOWN, (DOWN_CARE_ZH, DOWN_CARE_EN),
       ("过膝长款，充绒量 300 克，带可拆卸帽。", "Knee length, 300 g of down, detachable hood."),
       ["长款羽绒服", "long down coat", "long puffer"], ["black", "khaki"], LETTER_SIZES, ADULT_CHART),
    _p("P003", "双面呢大衣", "Double-faced wool coat", "outerwear", "1299.00", WOOL, ("仅限干洗。", "Dry clean only."),
       ("双面手工缝制，无里衬更轻，廓形显瘦。", "Hand-finished double-faced wool, unlined and light, a slimming cut."),
       ["呢大衣", "大衣", "羊毛大衣", "wool coat", "coat"], ["grey", "beige", "black"], LETTER_SIZES, ADULT_CHART),
    _p("P004", "防风冲锋衣", "Windproof shell jacket", "outerwear", "459.00", ("100% 聚酯纤维，防水涂层", "100% polyester with a waterproof coating"), COLD,
       ("防风防泼水，腋下透气拉链，帽檐可调。", "Windproof and water-repellent, underarm vents, adjustable hood."),
       ["冲锋衣", "风衣", "shell jacket", "rain jacket", "windbreaker"], ["blue", "black", "green"], LETTER_SIZES, ADULT_CHART),
    _p("P005", "牛仔夹克", "Denim jacket", "outerwear", "299.00", COTTON, COLD,
       ("水洗做旧，不褪色工艺，百搭基础款。", "Stone washed, colour-fast, a wardrobe staple."),
       ["牛仔外套", "牛仔夹克", "denim jacket", "jean jacket"], ["blue"], LETTER_SIZES, ADULT_CHART),
    _p("P006", "摇粒绒外套", "Fleece jacket", "outerwear", "159.00", ("100% 聚酯纤维摇粒绒", "100% polyester fleece"), COLD,
       ("双面抓绒，轻暖不起球。", "Double-sided fleece, light, warm and pill-resistant."),
       ["摇粒绒", "抓绒衣", "fleece", "fleece jacket"], ["grey", "navy"], LETTER_SIZES, ADULT_CHART, special=True),
    _p("P007", "皮衣机车夹克", "Leather biker jacket", "outerwear", "1599.00", ("100% 小羊皮", "100% lambskin"), (LEATHER_CARE_ZH, LEATHER_CARE_EN),
       ("头层小羊皮，柔软有光泽。", "Top-grain lambskin, soft with a natural sheen."),
       ["皮衣", "机车夹克", "leather jacket", "biker jacket"], ["black", "brown"], LETTER_SIZES, ADULT_CHART, in_production=False),
    # tops
    _p("P008", "纯棉圆领T恤", "Cotton crew-neck T-shirt", "tops", "79.00", COTTON, COLD,
       ("新疆长绒棉，200 克重磅，不易变形。", "Xinjiang long-staple cotton, 200 g heavyweight, keeps its shape."),
       ["T恤", "t恤", "短袖", "tee", "t-shirt", "tshirt"], ["white", "black", "grey", "navy"], LETTER_SIZES, ADULT_CHART, special=True),
    _p("P009", "羊绒衫", "Cashmere sweater", "tops", "699.00", ("100% 山羊绒", "100% cashmere"), ("建议干洗或冷水手洗，平铺晾干。", "Dry clean or cold hand wash, dry flat."),
       ("内蒙古山羊绒，亲肤不扎。", "Inner Mongolian cashmere, soft and never itchy."),
       ["羊绒衫", "羊绒毛衣", "cashmere", "cashmere sweater"], ["beige", "grey", "red"], LETTER_SIZES, ADULT_CHART),
    _p("P010", "麻花针织毛衣", "Cable-knit sweater", "tops", "259.00", ("60% 羊毛，40% 腈纶", "60% wool, 40% acrylic"), ("冷水手洗，平铺晾干。", "Cold hand wash, dry flat."),
       ("复古麻花纹，厚实保暖。", "Classic cable pattern, thick and warm."),
       ["毛衣", "针织衫", "sweater", "jumper", "knit sweater"], ["beige", "navy", "green"], LETTER_SIZES, ADULT_CHART),
    _p("P011", "牛津纺衬衫", "Oxford shirt", "tops", "189.00", COTTON, COLD,
       ("免烫处理，通勤休闲两穿。", "Non-iron finish, works for office and weekend."),
       ["衬衫", "牛津纺", "shirt", "oxford shirt"], ["white", "blue", "pink"], LETTER_SIZES, ADULT_CHART),
    _p("P012", "连帽卫衣", "Hooded sweatshirt", "tops", "229.00", ("80% 棉，20% 聚酯纤维", "80% cotton, 20% polyester"), COLD,
       ("内里加绒，袖口罗纹防风。", "Brushed fleece inside, ribbed cuffs keep the wind out."),
       ["卫衣", "帽衫", "hoodie", "sweatshirt"], ["grey", "black", "pink"], LETTER_SIZES, ADULT_CHART),
    _p("P013", "真丝衬衫", "Silk blouse", "tops", "599.00", ("100% 桑蚕丝", "100% mulberry silk"), ("专业干洗或冷水手洗，不可暴晒。", "Dry clean or cold hand wash, keep out of strong sun."),
       ("19 姆米重磅真丝，垂坠有光泽。", "19-momme heavy silk with a fluid drape."),
       ["真丝衬衫", "丝绸衬衫", "silk shirt", "silk blouse"], ["white", "pink"], LETTER_SIZES, ADULT_CHART),
    _p("P014", "打底高领衫", "Turtleneck base layer", "tops", "99.00", ("95% 莫代尔，5% 氨纶", "95% modal, 5% elastane"), COLD,
       ("莫代尔亲肤有弹力，秋冬打底不臃肿。", "Soft stretchy modal, layers without bulk."),
       ["高领", "打底衫", "turtleneck", "base layer"], ["black", "white", "beige"], LETTER_SIZES, ADULT_CHART),
    # bottoms
    _p("P015", "直筒牛仔裤", "Straight-leg jeans", "bottoms", "269.00", DENIM, COLD,
       ("微弹不紧绷，直筒修饰腿型。", "A little stretch, a straight leg that flatters."),
       ["牛仔裤", "jeans", "denim jeans"], ["blue", "black"], LETTER_SIZES, ADULT_CHART),
    _p("P016", "休闲工装裤", "Cargo trousers", "bottoms", "219.00", COTTON, COLD,
       ("多口袋设计，耐磨斜纹布。", "Plenty of pockets, hard-wearing twill."),
       ["工装裤", "cargo pants", "cargo trousers"], ["khaki", "green", "black"], LETTER_SIZES, ADULT_CHART),
    _p("P017", "羊毛西裤", "Wool suit trousers", "bottoms", "459.00", WOOL, ("建议干洗。", "Dry clean recommended."),
       ("垂感好不起皱，通勤正装。", "Drapes well and resists creasing; for the office."),
       ["西裤", "suit trousers", "dress pants"], ["grey", "navy", "black"], LETTER_SIZES, ADULT_CHART),
    _p("P018", "百褶半身裙", "Pleated midi skirt", "bottoms", "199.00", ("100% 聚酯纤维", "100% polyester"), COLD,
       ("永久压褶，行走飘逸。", "Permanent pleats that move as you walk."),
       ["半身裙", "百褶裙", "裙子", "skirt", "pleated skirt"], ["black", "beige", "green"], ["S", "M", "L"], ADULT_CHART[:3]),
    _p("P019", "加绒运动裤", "Fleece-lined joggers", "bottoms", "149.00", ("70% 棉，30% 聚酯纤维", "70% cotton, 30% polyester"), COLD,
       ("内里加绒，束脚设计。", "Fleece lined with cuffed ankles."),
       ["运动裤", "卫裤", "joggers", "sweatpants"], ["grey", "black"], LETTER_SIZES, ADULT_CHART, special=True),
    _p("P020", "灯芯绒阔腿裤", "Corduroy wide-leg trousers", "bottoms", "239.00", COTTON, COLD,
       ("复古灯芯绒，高腰阔腿。", "Vintage corduroy, high waist, wide leg."),
       ["灯芯绒裤", "阔腿裤", "corduroy", "wide-leg trousers"], ["brown", "beige"], LETTER_SIZES, ADULT_CHART),
    # shoes
    _p("P021", "经典帆布鞋", "Classic canvas sneakers", "shoes", "129.00", ("鞋面帆布，橡胶底", "canvas upper, rubber sole"), (SHOE_CARE_ZH, SHOE_CARE_EN),
       ("硫化工艺鞋底，耐磨防滑。", "Vulcanised sole, hard-wearing and non-slip."),
       ["帆布鞋", "canvas shoes", "sneakers"], ["white", "black"], SHOE_SIZES),
    _p("P022", "雪地靴", "Snow boots", "shoes", "329.00", ("翻毛羊皮，羊毛内里", "suede sheepskin, wool lining"), (SHOE_CARE_ZH, SHOE_CARE_EN),
       ("羊毛内里，防滑大底，零下 20°C 适用。", "Wool lined, grippy sole, fine down to -20°C."),
       ["雪地靴", "snow boots", "ugg", "boots"], ["beige", "brown", "black"], SHOE_SIZES),
    _p("P023", "真皮切尔西靴", "Leather Chelsea boots", "shoes", "699.00", ("头层牛皮，橡胶底", "full-grain cowhide, rubber sole"), (LEATHER_CARE_ZH, LEATHER_CARE_EN),
       ("两侧松紧，一脚蹬。", "Elastic sides, slip on and go."),
       ["切尔西靴", "chelsea boots", "leather boots"], ["black", "brown"], SHOE_SIZES),
    _p("P024", "轻量跑步鞋", "Lightweight running shoes", "shoes", "499.00", ("飞织鞋面，EVA 中底", "knit upper, EVA midsole"), (SHOE_CARE_ZH, SHOE_CARE_EN),
       ("单只 210 克，回弹中底。", "210 g per shoe with a springy midsole."),
       ["跑鞋", "跑步鞋", "运动鞋", "running shoes", "trainers"], ["white", "blue", "black"], SHOE_SIZES),
    _p("P025", "居家棉拖鞋", "Cosy home slippers", "shoes", "49.00", ("珊瑚绒鞋面，TPR 底", "coral fleece upper, TPR sole"), ("可手洗，自然晾干。", "Hand washable, air dry."),
       ("包跟设计，静音防滑。", "Closed heel, quiet and non-slip."),
       ["拖鞋", "棉拖", "slippers"], ["pink", "grey"], ["36", "38", "40", "42", "44"], special=True),
    # bags & accessories
    _p("P026", "真皮托特包", "Leather tote bag", "bags", "899.00", ("头层牛皮", "full-grain cowhide"), (LEATHER_CARE_ZH, LEATHER_CARE_EN),
       ("可放 14 寸电脑，内置拉链袋。", "Fits a 14-inch laptop, inner zip pocket."),
       ["托特包", "手提包", "tote", "tote bag", "handbag"], ["black", "brown", "beige"], ["F"]),
    _p("P027", "双肩电脑包", "Laptop backpack", "bags", "259.00", ("防泼水牛津布", "water-repellent Oxford fabric"), ("湿布擦拭，不可机洗。", "Wipe with a damp cloth, no machine washing."),
       ("独立电脑仓，USB 充电口，减压肩带。", "Padded laptop sleeve, USB port, cushioned straps."),
       ["双肩包", "背包", "电脑包", "backpack", "laptop bag"], ["black", "grey"], ["F"]),
    _p("P028", "羊绒围巾", "Cashmere scarf", "bags", "399.00", ("100% 山羊绒", "100% cashmere"), ("冷水手洗，平铺晾干。", "Cold hand wash, dry flat."),
       ("180×70 厘米，可作披肩。", "180 × 70 cm, doubles as a wrap."),
       ["围巾", "scarf", "cashmere scarf"], ["red", "grey", "beige"], ["F"]),
    _p("P029", "针织毛线帽", "Knitted beanie", "bags", "69.00", ("100% 腈纶", "100% acrylic"), ("冷水手洗。", "Cold hand wash."),
       ("弹力罗纹，男女同款。", "Stretchy rib knit, unisex."),
       ["毛线帽", "帽子", "beanie", "hat"], ["black", "grey", "red"], ["F"], special=True),
    _p("P030", "触屏羊皮手套", "Touchscreen leather gloves", "bags", "199.00", ("小羊皮，羊毛内里", "lambskin, wool lining"), (LEATHER_CARE_ZH, LEATHER_CARE_EN),
       ("指尖触屏，戴着也能用手机。", "Touchscreen fingertips, use your phone with them on."),
       ["手套", "gloves", "leather gloves"], ["black", "brown"], ["S", "M", "L"]),
    _p("P031", "20寸登机箱", "20-inch carry-on suitcase", "bags", "599.00", ("PC 箱体，铝合金拉杆", "PC shell, aluminium handle"), ("湿布擦拭。", "Wipe with a damp cloth."),
       ("符合多数航空公司登机尺寸，静音万向轮。", "Cabin size for most airlines, quiet spinner wheels."),
       ["行李箱", "登机箱", "拉杆箱", "suitcase", "luggage", "carry-on"], ["grey", "navy"], ["F"]),
    _p("P032", "帆布斜挎包", "Canvas crossbody bag", "bags", "119.00", ("加厚帆布", "heavy canvas"), ("可手洗，阴干。", "Hand washable, dry in the shade."),
       ("多隔层，可调节肩带。", "Several compartments, adjustable strap."),
       ["斜挎包", "帆布包", "crossbody", "crossbody bag", "canvas bag"], ["khaki", "black"], ["F"]),
]

COURIERS = {
    "SF": ("顺丰速运", "SF Express"),
    "ZTO": ("中通快递", "ZTO Express"),
    "YTO": ("圆通速递", "YTO Express"),
    "YUNDA": ("韵达快递", "Yunda Express"),
}
DEFAULT_COURIER = "ZTO"
