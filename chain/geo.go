package chain

import (
	"math"
	"strconv"
	"strings"
)

// centroid is a country's approximate centre and the radius (km) within
// which most of its population lives: a country-level place is only known
// to lie within radius of the centre, so distances are taken less both
// radii, a lower bound that keeps neighbouring and large countries from
// looking like impossible travel.
type centroid struct{ lat, lon, radius float32 }

// countryTable is "CC lat lon radius" for the countries sign-ins commonly
// come from; others have no place and are skipped by impossible_travel.
const countryTable = `
US 39.8 -98.6 2000|CA 50 -95 2500|MX 23.6 -102.5 1200|BR -14 -50 2000|AR -35 -64 1500|CL -33 -71 1800
CO 4.5 -74 700|PE -9 -75 900|VE 8 -66 700|EC -1.4 -78.4 400|UY -32.8 -56 250|CR 9.9 -84 150|PA 8.5 -80 250
DO 18.9 -70.5 200|GB 53.5 -2 500|IE 53.2 -8 250|FR 46.6 2.4 550|DE 51.1 10.4 450|NL 52.2 5.3 150
BE 50.6 4.6 150|LU 49.8 6.1 50|CH 46.8 8.2 200|AT 47.6 14.1 300|IT 42.8 12.6 600|ES 40.2 -3.6 550
PT 39.6 -8 300|PL 52 19.4 350|CZ 49.8 15.5 250|SK 48.7 19.7 200|HU 47.2 19.4 250|RO 45.9 25 350
BG 42.7 25.5 250|GR 39.1 22 400|SE 60 15.3 700|NO 61 10 700|FI 62 25.5 500|DK 56 10 200|EE 58.7 25.5 200
LV 56.9 24.8 200|LT 55.3 23.9 200|UA 49 31.4 650|BY 53.5 28 350|RU 56 50 3000|TR 39 35.2 800|IL 31.4 35 200
AE 24 54 300|SA 24 45 1100|QA 25.3 51.2 80|KW 29.3 47.6 100|JO 31.2 36.4 200|EG 28 31 600|ZA -29 25 900
NG 9 8.7 650|GH 7.9 -1 350|KE 0.2 37.9 500|ET 8.6 39.6 700|MA 31.8 -7 500|TN 34 9.6 350|DZ 33 3 900
IN 22.8 79 1600|PK 30 69.3 800|BD 23.7 90.3 300|LK 7.8 80.7 200|NP 28.2 84 400|CN 33 110 2000
HK 22.35 114.15 30|MO 22.2 113.55 10|TW 23.7 121 200|JP 36.5 138.5 1100|KR 36.4 127.9 300|SG 1.35 103.8 30
MY 3.5 105 900|TH 15 101 700|VN 16 106 900|ID -3 115 2500|PH 12.8 122 900|AU -30 140 2200|NZ -41.8 172.8 800
IR 32.5 54 1000|KZ 48 67 1300|UZ 41.7 63.6 700|MN 46.8 103 1100|GE 42.2 43.5 250|AM 40.2 45 150
AZ 40.3 47.7 250|IS 64.9 -18.6 300|CY 35 33 100|RS 44 20.8 250|HR 45 15.7 300|SI 46.1 14.8 100
MT 35.9 14.4 20|MC 43.74 7.42 5`

var centroids = parseCountries(countryTable)

func parseCountries(s string) map[uint16]centroid {
	m := map[uint16]centroid{}
	for _, row := range strings.FieldsFunc(s, func(r rune) bool { return r == '|' || r == '\n' }) {
		f := strings.Fields(row)
		if len(f) != 4 {
			panic("chain: bad country row " + strconv.Quote(row))
		}
		var v [3]float64
		for i := range v {
			x, err := strconv.ParseFloat(f[i+1], 32)
			if err != nil {
				panic("chain: bad country row " + strconv.Quote(row) + ": " + err.Error())
			}
			v[i] = x
		}
		m[ccode(f[0])] = centroid{float32(v[0]), float32(v[1]), float32(v[2])}
	}
	return m
}

// ccode packs an ISO 3166-1 alpha-2 code into 16 bits (0 for anything
// else), so per-identity country sets are a few bytes.
func ccode(s string) uint16 {
	if len(s) != 2 {
		return 0
	}
	a, b := s[0], s[1]
	if a < 'A' || a > 'Z' || b < 'A' || b > 'Z' {
		return 0
	}
	return uint16(a)<<8 | uint16(b)
}

// ccString unpacks ccode.
func ccString(c uint16) string { return string([]byte{byte(c >> 8), byte(c)}) }

// distanceKm is the great-circle distance, less the uncertainty radii.
func distanceKm(a, b centroid) float64 {
	const r = 6371.0
	rad := math.Pi / 180
	la1, la2 := float64(a.lat)*rad, float64(b.lat)*rad
	dla, dlo := la2-la1, float64(b.lon-a.lon)*rad
	h := math.Sin(dla/2)*math.Sin(dla/2) + math.Cos(la1)*math.Cos(la2)*math.Sin(dlo/2)*math.Sin(dlo/2)
	d := 2 * r * math.Asin(math.Min(1, math.Sqrt(h)))
	return math.Max(0, d-float64(a.radius)-float64(b.radius))
}
